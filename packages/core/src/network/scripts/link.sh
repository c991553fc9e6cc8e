# Link faults in nodes' network namespaces, run by the agent (host pid namespace); the delayer's source is in
# $DELAYER. Works without sch_netem: loss is iptables' statistic match, delay and jitter a user-space NFQUEUE
# delayer (delayer.pl), rate a tbf qdisc on every interface but lo.
#   set <pid> <delay_ms> <jitter_ms> <loss_percent> <rate_kbit>   (0: off) replaces the node's link faults
#   clear <pid>                                                    lifts them
#   show <pid> ...                                                 prints "<pid> <delay> <jitter> <loss> <rate>"
set -u
op=$1
shift
if [ "$op" = show ]; then
  for pid in "$@"; do
    [ -e "/proc/$pid/ns/net" ] || continue
    nsenter --net="/proc/$pid/ns/net" iptables -w -S NODES-LINK 2>/dev/null |
      sed -n "s|.*--comment \"nodes-link \([0-9. ]*\)\".*|$pid \1|p"
  done
  exit 0
fi
pid=$1
[ -e "/proc/$pid/ns/net" ] || { echo "node process $pid is gone" >&2; exit 3; }
ns() { nsenter --net="/proc/$pid/ns/net" "$@"; }
delay=${2:-0}
jitter=${3:-0}
loss=${4:-0}
rate=${5:-0}
[ "$op" = clear ] && { delay=0; jitter=0; loss=0; rate=0; }
pkill -f "^nodes-delayer $pid\$" 2>/dev/null
{
  printf '*filter\n:NODES-LINK - [0:0]\n'
  if [ "$op" = set ]; then
    printf -- '-A NODES-LINK -m comment --comment "nodes-link %s %s %s %s"\n' "$delay" "$jitter" "$loss" "$rate"
    printf -- '-A NODES-LINK -o lo -j RETURN\n'
    [ "$loss" = 0 ] || printf -- '-A NODES-LINK -m statistic --mode random --probability %s -j DROP\n' "$(awk "BEGIN { print $loss / 100 }")"
    [ "$delay" = 0 ] && [ "$jitter" = 0 ] || printf -- '-A NODES-LINK -j NFQUEUE --queue-num 0 --queue-bypass\n'
  fi
  printf 'COMMIT\n'
} | ns iptables-restore -w --noflush || exit 1
ns iptables -w -C OUTPUT -j NODES-LINK 2>/dev/null || ns iptables -w -A OUTPUT -j NODES-LINK || exit 1
for dev in $(ns ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//'); do
  [ "$dev" = lo ] && continue
  if [ "$rate" = 0 ]; then
    ns tc qdisc del dev "$dev" root 2>/dev/null || true
  else
    ns tc qdisc replace dev "$dev" root tbf rate "${rate}kbit" burst 32kbit latency 400ms || exit 1
  fi
done
if [ "$delay" != 0 ] || [ "$jitter" != 0 ]; then
  setsid nsenter --net="/proc/$pid/ns/net" perl -e "$DELAYER" "$delay" "$jitter" "$pid" </dev/null >/dev/null 2>&1 &
fi
exit 0
