# Partitions in nodes' network namespaces, run by the agent (host pid namespace).
#   set <pid>=<ip,ip,...> ...   each node drops traffic to and from those addresses (chain NODES-PARTITION,
#                               hooked first in INPUT and OUTPUT); an empty list lifts its blocks.
#   show <pid> ...              prints "<pid> <ip>" for every address each node blocks.
set -u
op=$1
shift
for arg in "$@"; do
  pid=${arg%%=*}
  [ -e "/proc/$pid/ns/net" ] || continue
  if [ "$op" = show ]; then
    nsenter --net="/proc/$pid/ns/net" iptables -w -S NODES-PARTITION 2>/dev/null |
      sed -n "s|^-A NODES-PARTITION -d \([0-9.]*\)/32 -j DROP\$|$pid \1|p"
    continue
  fi
  ips=${arg#*=}
  {
    printf '*filter\n:NODES-PARTITION - [0:0]\n'
    for ip in $(printf '%s' "$ips" | tr ',' ' '); do
      printf -- '-A NODES-PARTITION -s %s -j DROP\n-A NODES-PARTITION -d %s -j DROP\n' "$ip" "$ip"
    done
    printf 'COMMIT\n'
  } | nsenter --net="/proc/$pid/ns/net" iptables-restore -w --noflush || exit 1
  for chain in INPUT OUTPUT; do
    nsenter --net="/proc/$pid/ns/net" iptables -w -C "$chain" -j NODES-PARTITION 2>/dev/null ||
      nsenter --net="/proc/$pid/ns/net" iptables -w -I "$chain" 1 -j NODES-PARTITION || exit 1
  done
done
