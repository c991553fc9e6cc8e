# Ends a process's run: sends the signal to every process carrying its mark (the command and all its
# descendants, daemons included), SIGKILL after the grace period, confirms none is left, waits for the
# supervisor to write the end, then prints the record as read.sh does.
# args: stateDir processId signal graceMs maxFileBytes totalBytes
# Exit codes: 3 unknown process, 4 a marked process still alive after SIGKILL, 0 done.
d="$1/processes" id=$2 sig=$3 grace=$4 max=$5 total=$6
p="$d/$id"
[ -f "$p/meta" ] || exit 3
[ -f "$p/end" ] || printf '%s' "$sig" > "$p/kill_requested"
end_run "$id" "$sig" "$grace" "$p/kill_requested" || exit 4
sup=
[ -f "$p/start" ] && read -r _ _ sup < "$p/start"
case $sup in '' | *[!0-9]*) sup= ;; esac
k=0
while [ ! -f "$p/end" ] && [ -n "$sup" ] && kill -0 "$sup" 2> /dev/null && [ $k -lt 100 ]; do
  sleep 0.05
  k=$((k + 1))
done
print_records "$d" "$max" "$total" "$id"
