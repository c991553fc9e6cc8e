# Prints "@ended <0|1>" (whether the end was written before the output was read: then the slices hold all
# there is), then for stdout and stderr "@<stream> <kept size> <n>" and exactly n bytes of it from the offset
# (n at most the limit), then the record as read.sh prints it.
# args: stateDir processId stdoutOffset stdoutLimit stderrOffset stderrLimit maxFileBytes totalBytes
# Exit code 3: unknown process.
d="$1/processes" id=$2
p="$d/$id"
[ -f "$p/meta" ] || exit 3
if [ -f "$p/end" ]; then printf '@ended 1\n'; else printf '@ended 0\n'; fi
slice() {
  size=$(wc -c < "$p/$1" 2> /dev/null || printf 0)
  n=$((size - $2))
  [ $n -lt 0 ] && n=0
  [ $n -gt "$3" ] && n=$3
  printf '@%s %s %s\n' "$1" "$size" "$n"
  # Exactly n bytes, even if the file shrank meanwhile: the reader counts on it.
  [ "$n" -gt 0 ] && { tail -c +$(($2 + 1)) "$p/$1" 2> /dev/null | head -c "$n"; head -c "$n" /dev/zero; } | head -c "$n"
  return 0
}
slice stdout "$3" "$4"
slice stderr "$5" "$6"
print_records "$d" "$7" "$8" "$id"
