# After a reset: every carried process that had not ended is marked lost (exit code 137, SIGKILL, as the
# engine killed it with the old container). Only data is carried across a reset; nothing here runs.
# args: stateDir
d="$1/processes"
[ -d "$d" ] || exit 0
for p in "$d"/$ID_GLOB; do
  if [ ! -d "$p" ] || [ -f "$p/end" ]; then continue; fi
  now_ms 0
  printf '137 %s lost\n' "$now" > "$p/end.tmp" && mv -f "$p/end.tmp" "$p/end"
  rm -f "$p/out.fifo" "$p/err.fifo"
done
