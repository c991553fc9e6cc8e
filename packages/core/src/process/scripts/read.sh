# Prints the records of the given processes (all when none is given), as print_records does.
# args: stateDir maxFileBytes totalBytes [processId...]
d="$1/processes" max=$2 total=$3
shift 3
if [ $# -eq 0 ]; then
  [ -d "$d" ] || { printf '@tar\n'; exit 0; }
  set --
  for p in "$d"/$ID_GLOB; do [ -d "$p" ] && set -- "$@" "${p##*/}"; done
fi
print_records "$d" "$max" "$total" "$@"
