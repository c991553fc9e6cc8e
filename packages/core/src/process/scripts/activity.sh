# Prints a node's process activity, for pruning idle nodes: "mtime <s>" of the processes directory (changed by
# every start) and "alive" when some process has no end and a live supervisor.
# args: stateDir
d="$1/processes"
[ -d "$d" ] || exit 0
printf 'mtime %s\n' "$(stat -c %Y "$d" 2> /dev/null || printf 0)"
for p in "$d"/$ID_GLOB; do
  [ -f "$p/end" ] && continue
  sup=
  [ -f "$p/start" ] && read -r _ _ sup < "$p/start"
  case $sup in '' | *[!0-9]*) continue ;; esac
  if kill -0 "$sup" 2> /dev/null; then
    printf 'alive\n'
    break
  fi
done
exit 0
