/**
 * Names of warm-pool containers, and the node record a claimed one keeps in its name.
 *
 * Why the name: container labels cannot change after create, and a pooled container is made before anyone
 * knows which node it will be (a create's, or a reset's of an older node, whose id and history it must then
 * carry). The name is the only thing of a container the engine lets us change, and it is the engine's: a
 * restarted manager reads it back like a label. What a rename guarantees: a rename addressed by a name fails
 * (404) once the container no longer has that name, and a rename to the name the container already has fails
 * (400), as does one to a name taken by another container (409). It is not a compare-and-swap on its own (the
 * engine looks the container up by the old name, then renames whatever it is called by the time it holds the
 * container's lock), so every claimer of one container renames it, addressed by its pooled name, to the same
 * claim name: exactly one succeeds. The winner then renames it (by id) to what it becomes.
 * - `nodes-<ns>.P.<id>`: pooled, free to claim. `<id>` is a node id chosen at fill time; the container's hostname
 *   and its DNS alias on the namespace's networks are that id, so a create that claims it needs no network
 *   call: the node id is `<id>`.
 * - `nodes-<ns>.K.<id>`: claimed, not yet anything: not a node, not claimable. A create renames it on at once; a
 *   reset moves a node onto it first (records, networks); a sweep removes it. A manager that dies here leaves
 *   it for the pool's sweep (once seen so for `pruneGraceMs`): the caller never got a node, so a crash leaves a
 *   node or a warm container, never both, never neither.
 * - `nodes-<ns>.C.<node id>.<created>.<resets>[.<reset at>]`: a node and its record (Unix ms, base 36). A reset
 *   of node A moves A's record, one reset more, onto a warm container claimed for it.
 * - `nodes-<ns>.X.<id>`: the claim marker of warm container `<id>`, a container created and never started
 *   (label `io.nodes.role=claim`). A rename alone leaves a window: a claimer whose rename the engine looked up under
 *   the pooled name but ran only after the winner's second rename would win too (seen: 10 nodes for 12 racing
 *   creates). So a claimer first creates the marker (the engine reserves names atomically: one claimer makes it),
 *   renames, and removes the marker only after its last rename; a stalled loser never gets that far. A marker left
 *   by a dead manager is swept once older than `pruneGraceMs`.
 * - `nodes-<ns>.R.<id>`: pooled like `.P.`, but off the namespace's networks (left after its start): ready for a
 *   reset, which would otherwise wait for it to leave them before it joins with the node's aliases and addresses.
 *   Only resets claim it.
 * The upper-case letter keeps these apart from node names (`nodes-<ns>.N.<name>`), which hold none.
 */
export type PoolNameKind = 'pooled' | 'ready' | 'claiming' | 'marker';

/** The record a claimed (or staged) container's name carries. */
export interface NamedRecord {
  nodeId: string;
  /** ISO 8601 */
  createdAt: string;
  resets: number;
  /** ISO 8601 */
  resetAt?: string;
}

const MARK: Record<PoolNameKind, string> = { pooled: 'P', ready: 'R', claiming: 'K', marker: 'X' };
const KIND_OF: Record<string, PoolNameKind> = { P: 'pooled', R: 'ready', K: 'claiming', X: 'marker' };
const ID = 'n-[0-9a-f]{12}';
const ASIDE = '(?:-replaced-[0-9a-f]{6})?';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ms36 = (iso: string) => Date.parse(iso).toString(36);
const iso36 = (s: string) => new Date(parseInt(s, 36)).toISOString();

/** `nodes-<ns>.P.<id>`, `.R.`, `.K.` or `.X.`: a warm container's name, pooled, ready, claimed, or its claim marker (see above). */
export function poolNameOf(namespace: string, id: string, kind: PoolNameKind = 'pooled'): string {
  return `nodes-${namespace}.${MARK[kind]}.${id}`;
}

/** The name holding a node's record: `nodes-<ns>.C.<node id>.<created>.<resets>[.<reset at>]`. */
export function recordNameOf(namespace: string, record: NamedRecord): string {
  const tail = record.resetAt ? `.${ms36(record.resetAt)}` : '';
  return `nodes-${namespace}.C.${record.nodeId}.${ms36(record.createdAt)}.${record.resets}${tail}`;
}

/** What a pool container's name says: pooled or claiming with its id, or a node with its record; else undefined. */
export function parsePoolName(
  namespace: string,
  name: string,
): { kind: PoolNameKind; id: string } | { kind: 'node'; id: string; record: NamedRecord; aside: boolean } | undefined {
  const prefix = `^nodes-${escape(namespace)}\\.`;
  const warm = new RegExp(`${prefix}([PRKX])\\.(${ID})$`).exec(name);
  if (warm) return { kind: KIND_OF[warm[1]!]!, id: warm[2]! };
  const m = new RegExp(`${prefix}C\\.(${ID})\\.([0-9a-z]+)\\.(\\d+)(?:\\.([0-9a-z]+))?(${ASIDE})$`).exec(name);
  if (!m) return undefined;
  const record: NamedRecord = { nodeId: m[1]!, createdAt: iso36(m[2]!), resets: Number(m[3]) };
  if (m[4]) record.resetAt = iso36(m[4]);
  return { kind: 'node', id: m[1]!, record, aside: m[5] !== '' };
}
