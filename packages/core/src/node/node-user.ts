/**
 * Who owns what is written into a node (files, carried process records), from a node spec's `user` (`uid`,
 * `uid:gid`, `name`, `name:group`): numeric ids go in the tar's headers as they are (gid 0 when none is given, as Docker runs such a user); a name is looked up
 * by the engine in the node's `/etc/passwd` (`copyUIDGID`, `docker cp -a`); no user is root.
 */
export function ownerOf(user: string | undefined): { uid: number; gid: number; byName: boolean } {
  const numeric = user === undefined ? undefined : /^(\d+)(?::(\d+))?$/.exec(user);
  if (user === undefined) return { uid: 0, gid: 0, byName: false };
  if (numeric) return { uid: Number(numeric[1]), gid: Number(numeric[2] ?? 0), byName: false };
  return { uid: 0, gid: 0, byName: true };
}
