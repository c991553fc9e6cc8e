/**
 * The dashboard's HTML: a table of nodes, a create form, and a console for one node's processes. Its script is
 * `DASHBOARD_JS` (served as /ui/app.js, so the page runs under a strict Content-Security-Policy).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@nodes dashboard</title>
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
  header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
  .pill { padding: .1rem .5rem; border-radius: 1rem; background: #dfe3ea; font-size: .85rem; }
  .good, .running { background: #cdeccf; } .bad, .exited, .dead { background: #f6d0cc; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e4e7ec; }
  tr.selected { background: #eef4ff; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: .4rem 0; }
  input { padding: .3rem .4rem; border: 1px solid #c3c9d3; border-radius: 4px; }
  input.wide { flex: 1; min-width: 16rem; font-family: ui-monospace, monospace; }
  button { padding: .3rem .7rem; border: 1px solid #8892a3; border-radius: 4px; background: #fff; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  pre { background: #111722; color: #e6e9ef; padding: .7rem; min-height: 6rem; max-height: 24rem; overflow: auto; margin: .4rem 0; white-space: pre-wrap; }
  pre .stderr { color: #ff9c8f; } pre .meta { color: #8fb3ff; }
  #error { color: #a21b0c; min-height: 1.2rem; }
</style>
</head>
<body>
<header>
  <h1>@nodes</h1>
  <span>health <span id="health" class="pill">…</span></span>
  <span id="counts"></span>
  <label>token <input id="token" type="password" placeholder="only if the server has one" autocomplete="off"></label>
</header>
<div id="error" role="alert"></div>
<h2>Nodes</h2>
<form id="create">
  <input name="name" placeholder="name (optional)" aria-label="name">
  <input name="image" placeholder="image (default)" aria-label="image">
  <input name="labels" placeholder="labels k=v,k2=v2" aria-label="labels">
  <button type="submit">Create node</button>
</form>
<table>
  <thead><tr><th>node</th><th>name</th><th>image</th><th>state</th><th>health</th><th>resets</th><th></th></tr></thead>
  <tbody id="nodes"></tbody>
</table>
<section id="console" hidden>
  <h2>Processes on <span id="selected"></span></h2>
  <form id="run">
    <input class="wide" name="command" placeholder="shell command, e.g. echo hello" aria-label="command" required>
    <button type="submit">Run</button>
  </form>
  <div>process <span id="process">-</span> <span id="status" class="pill">-</span></div>
  <pre id="output" aria-label="output"></pre>
</section>
<script type="module" src="/ui/app.js"></script>
</body>
</html>
`;
