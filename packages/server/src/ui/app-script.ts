/**
 * The dashboard's script: plain modern JS, no build. It speaks the wire format with fetch (`POST /`), and follows
 * a process's output over the SSE route with fetch streaming, so that it can send the bearer token and resume
 * with `Last-Event-ID` after a dropped connection.
 */
export const DASHBOARD_JS = String.raw`
const $ = (id) => document.getElementById(id);
const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem('nodes-token') || '';
tokenInput.addEventListener('change', () => { sessionStorage.setItem('nodes-token', tokenInput.value); refresh(); });
const auth = () => (tokenInput.value ? { authorization: 'Bearer ' + tokenInput.value } : {});
let selected = null;
let following = null;

function showError(message) { $('error').textContent = message || ''; }

async function call(method, args) {
  const res = await fetch('/', { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify({ method, args, timestamp: Date.now() / 1000 }) });
  const body = await res.json();
  if (body.result.status !== 'success') throw new Error(body.result.error.code + ': ' + body.result.error.detail);
  return body.result;
}

function cell(text, className) {
  const td = document.createElement('td');
  if (className !== undefined) { const pill = document.createElement('span'); pill.className = 'pill ' + className; pill.textContent = text; td.append(pill); }
  else td.textContent = text;
  return td;
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button'; b.textContent = label;
  b.addEventListener('click', async () => { b.disabled = true; try { await onClick(); showError(''); } catch (e) { showError(e.message); } finally { b.disabled = false; refresh(); } });
  return b;
}

async function refresh() {
  try {
    // The list shows even when the health check fails or is slow: each answer is used on its own.
    const [listed, checked] = await Promise.allSettled([call('list_nodes'), call('get_health')]);
    if (listed.status === 'rejected') throw listed.reason;
    const nodes = listed.value.nodes;
    const health = checked.status === 'fulfilled' ? checked.value : null;
    $('health').textContent = health ? health.health : 'unknown'; $('health').className = 'pill ' + (health ? health.health : '');
    $('counts').textContent = nodes.filter((n) => n.state === 'running').length + ' of ' + nodes.length + ' running';
    const badNodes = new Set(health ? health.reasons.filter((r) => r.kind === 'node').map((r) => r.node_id) : []);
    const rows = nodes.map((n) => {
      const tr = document.createElement('tr');
      tr.dataset.nodeId = n.node_id;
      if (n.node_id === selected?.node_id) tr.className = 'selected';
      const nodeHealth = n.state === 'running' && !badNodes.has(n.node_id) ? 'good' : 'bad';
      tr.append(cell(n.node_id), cell(n.name || '-'), cell(n.image), cell(n.state, n.state), cell(nodeHealth, nodeHealth), cell(String(n.resets)));
      const actions = document.createElement('td');
      actions.append(
        button('Open', async () => select(n)),
        button('Reset', async () => { await call('reset_node', { node_id: n.node_id }); }),
        button('Remove', async () => { await call('remove_node', { node_id: n.node_id }); if (selected?.node_id === n.node_id) select(null); }),
      );
      tr.append(actions);
      return tr;
    });
    $('nodes').replaceChildren(...rows);
  } catch (e) {
    showError(e.message);
  }
}

function select(node) {
  selected = node;
  $('console').hidden = !node;
  if (node) $('selected').textContent = (node.name || node.node_id);
}

$('create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const args = {};
  if (form.get('name')) args.name = form.get('name');
  if (form.get('image')) args.image = form.get('image');
  if (form.get('labels')) args.labels = Object.fromEntries(String(form.get('labels')).split(',').map((p) => p.trim().split('=')).filter((p) => p[0]).map(([k, ...v]) => [k, v.join('=')]));
  try { const { node } = await call('create_node', args); select(node); event.target.reset(); showError(''); } catch (e) { showError(e.message); }
  refresh();
});

function append(text, className) {
  const span = document.createElement('span');
  span.className = className; span.textContent = text;
  $('output').append(span);
  $('output').scrollTop = $('output').scrollHeight;
}

function setStatus(text, className) { $('status').textContent = text; $('status').className = 'pill ' + (className || ''); }

/** Follows a process's output over SSE; reconnects with Last-Event-ID when the stream drops before its end. */
async function follow(nodeId, processId, signal) {
  let lastId = null;
  for (let failures = 0; failures <= 10 && !signal.aborted;) {
    try {
      const headers = { accept: 'text/event-stream', ...auth() };
      if (lastId) headers['last-event-id'] = lastId;
      const res = await fetch('/nodes/' + nodeId + '/processes/' + processId + '/logs?follow=1', { headers, signal });
      if (!res.ok) { const body = await res.json(); throw Object.assign(new Error(body.result.error.code + ': ' + body.result.error.detail), { final: true }); }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
          const event = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':'); if (colon === 0) continue;
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') event.data += (event.data ? '\n' : '') + val; else event[field] = val;
          }
          if (event.id) lastId = event.id;
          failures = 0;
          const data = JSON.parse(event.data || 'null');
          if (event.event === 'stdout' || event.event === 'stderr') append(data.data, event.event);
          if (event.event === 'error') throw Object.assign(new Error(data.code + ': ' + data.detail), { final: true });
          if (event.event === 'end') { setStatus(data.process.status + ' (exit code ' + data.process.exit_code + ')', data.process.exit_code === 0 ? 'good' : 'bad'); return; }
        }
      }
    } catch (e) {
      if (e.final) { setStatus('error', 'bad'); showError(e.message); return; }
      if (signal.aborted) return;
    }
    failures += 1;
    setStatus('reconnecting…');
    await new Promise((r) => setTimeout(r, 300 * failures));
  }
}

$('run').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!selected) return;
  const command = new FormData(event.target).get('command');
  following?.abort();
  following = new AbortController();
  $('output').replaceChildren();
  try {
    const { process_id } = await call('run_process_on_node', { node_id: selected.node_id, config: { name: 'dashboard', command } });
    $('process').textContent = process_id;
    setStatus('running');
    append('$ ' + command + '\n', 'meta');
    await follow(selected.node_id, process_id, following.signal);
  } catch (e) { showError(e.message); }
  refresh();
});

refresh();
setInterval(refresh, 3000);
`;
