# Lists one directory of a node. args: <dir> <max entries>. For each entry prints
# "<hex mode> <size bytes> <mtime s>" NUL "<name>" NUL; then "more" NUL when entries were left out.
# Exit 2: no such path; 3: not a directory.
dir=$1
max=$2
[ -e "$dir" ] || [ -L "$dir" ] || exit 2
[ -d "$dir" ] || exit 3
cd -- "$dir" || exit 3
n=0
for f in .* *; do
  case $f in .|..) continue ;; esac
  [ -e "$f" ] || [ -L "$f" ] || continue
  n=$((n + 1))
  if [ "$n" -gt "$max" ]; then
    printf 'more\000'
    break
  fi
  printf '%s\000%s\000' "$(stat -c '%f %s %Y' -- "$f")" "$f"
done
