# Guards the engine host from a namespace's bridge, run by the agent in the host's network namespace.
#   <bridge> <allow host 0|1> <egress 0|1>
# Without host access, new connections from the bridge to the host itself are dropped (INPUT); without egress,
# traffic from the bridge to anywhere but itself is dropped (FORWARD). Replies to connections made from the host
# (published ports) still pass. Rules carry the comment "nodes:<bridge>" and are replaced on every call; rules of
# bridges that no longer exist are removed on the way.
set -u
bridge=$1
allow_host=$2
egress=$3
tag="nodes:$bridge"
# Deletes the rules of a chain whose text matches a pattern (grep -E), as iptables -S prints them. A rule that
# another call (another manager's) deleted in between is gone as wanted.
purge() {
  iptables -w -S "$1" | grep -E -- "$2" | while IFS= read -r rule; do
    eval "iptables -w $(printf '%s' "$rule" | sed 's/^-A/-D/')" 2>/dev/null || true
  done
}
for chain in INPUT FORWARD; do
  purge "$chain" "nodes:$bridge\"? -j"
  # Rules of bridges that are gone (their networks removed without us) go too.
  for stale in $(iptables -w -S "$chain" | sed -n 's/.*--comment "\{0,1\}nodes:\(br-[0-9a-f]*\).*/\1/p' | sort -u); do
    [ -e "/sys/class/net/$stale" ] || purge "$chain" "nodes:$stale\"? -j"
  done
done
[ "$allow_host" = 1 ] || iptables -w -I INPUT 1 -i "$bridge" -m conntrack ! --ctstate ESTABLISHED,RELATED -m comment --comment "$tag" -j DROP || exit 1
[ "$egress" = 1 ] || iptables -w -I FORWARD 1 -i "$bridge" ! -o "$bridge" -m conntrack ! --ctstate ESTABLISHED,RELATED -m comment --comment "$tag" -j DROP || exit 1
