# Streams a process's output while it runs, for followers: frames "@<stream> <offset> <n>" then n bytes, as
# the files grow (read in the node every 100 ms, no exec per read), then "@end" once the end is written and
# both streams are drained. Ends when its stdin closes (the manager dropped the last follower).
# args: stateDir processId stdoutOffset stderrOffset frameBytes capBytes
d="$1/processes/$2" out=$3 err=$4 frame=$5 cap=$6
[ -f "$d/meta" ] || exit 3
# The watcher ends when the exec's stdin does (the manager dropped the last follower); the loop then ends too.
# A background job's stdin is /dev/null, so it gets the exec's stdin through fd 3, and none of its other
# streams: the engine reports the exec's end only once they close.
exec 3<&0
cat <&3 > /dev/null 2>&1 &
watcher=$!
exec 3<&- 0< /dev/null
# Sets "size" to a stream's kept size (at most the cap).
size_of() {
  size=$(wc -c < "$d/$1" 2> /dev/null || printf 0)
  [ "$size" -gt "$cap" ] && size=$cap
  return 0
}
# Prints what a stream has past its offset (at most one frame); sets "n" to how many bytes it printed.
step() {
  size_of "$1"
  n=$((size - $2))
  [ "$n" -gt "$frame" ] && n=$frame
  [ "$n" -gt 0 ] || { n=0; return 0; }
  printf '@%s %s %s\n' "$1" "$2" "$n"
  { tail -c +$(($2 + 1)) "$d/$1" 2> /dev/null | head -c "$n"; head -c "$n" /dev/zero; } | head -c "$n"
}
while :; do
  ended=0
  [ -f "$d/end" ] && ended=1
  step stdout "$out"
  out=$((out + n))
  moved=$n
  step stderr "$err"
  err=$((err + n))
  moved=$((moved + n))
  if [ $ended = 1 ] && [ $moved = 0 ]; then
    printf '@end\n'
    kill "$watcher" 2> /dev/null
    exit 0
  fi
  kill -0 "$watcher" 2> /dev/null || exit 0
  [ $moved -gt 0 ] || sleep 0.1
done
