/** `show` output of partition.sh / link.sh: `<pid> <rest>` lines, grouped by pid. */
export function byPid(out: Buffer): Map<number, string[]> {
  const map = new Map<number, string[]>();
  for (const line of out.toString('utf8').split('\n')) {
    const [pid, ...rest] = line.trim().split(' ');
    if (!pid || rest.length === 0) continue;
    map.set(Number(pid), [...(map.get(Number(pid)) ?? []), rest.join(' ')]);
  }
  return map;
}

