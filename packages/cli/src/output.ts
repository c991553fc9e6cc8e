import Table from 'cli-table3';

/** Prints rows as a docker-style table: a header line and aligned columns, no borders. */
export function printTable(head: string[], rows: Array<Array<string | number | null | undefined>>): void {
  const table = new Table({
    head,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
  process.stdout.write(`${table.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`);
}

/** Prints a value as JSON, for scripts (`--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** How long ago an ISO 8601 time was, in docker's words ("3 seconds ago", "2 hours ago"). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const [n, unit] = seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [Math.floor(seconds / 60), 'minute'] : seconds < 86400 ? [Math.floor(seconds / 3600), 'hour'] : [Math.floor(seconds / 86400), 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

/** A command line for a table cell: an argv joined by spaces, cut to `width` characters. */
export function shortCommand(command: string | string[], width = 40): string {
  const text = Array.isArray(command) ? command.join(' ') : command;
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}
