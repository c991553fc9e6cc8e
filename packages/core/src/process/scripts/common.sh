# shellcheck shell=sh disable=SC2317 # functions here are called by the scripts sent after this file
# Shared functions of the in-node scripts; each script is sent with this file prepended, with every exec.
# POSIX sh (busybox ash, dash, bash): data is only ever printed with printf '%s', never with echo.
# A process's record lives in <stateDir>/processes/<processId>/ (see README "Processes"):
#   meta      JSON (name, command, path, env keys, timeout, exec id), written once at start
#   start     "<pid> <started at, Unix ms> <supervisor pid>", renamed into place
#   stdout, stderr   the streams, at most cap+1 bytes each (a size above the cap means cut)
#   kill_requested, timed_out   markers (the first signal sent)
#   end       "<exit code> <ended at, Unix ms> <status> [oom_killed]", renamed into place, written last

# Process ids as directory names: anything else in the processes directory is not ours and is never read.
ID_GLOB='p-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'

now_ms() {
  t=$(date +%s%N 2>/dev/null)
  case $t in *N | '') ;; *) printf '%s\n' $((t / 1000000)); return ;; esac
  # busybox date has no %N; its adjtimex applet reads the clock in microseconds without changing it.
  t=$(adjtimex 2>/dev/null | awk '/tv_sec/ {s=$2} /tv_usec/ {u=$2} END {if (s) printf "%d%03d", s, u / 1000}')
  [ -n "$t" ] && { printf '%s\n' "$t"; return; }
  printf '%s\n' $(($(date +%s) * 1000))
}

# How many times the out-of-memory killer has killed a process of this node (its cgroup's counter, v2 or v1).
oom_kills() {
  for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
    [ -r "$f" ] || continue
    while read -r key value; do
      [ "$key" = oom_kill ] && { printf '%s\n' "$value"; return; }
    done < "$f"
  done
  printf '0\n'
}

secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# Pids of every process that carries the run mark NODES_RUN=<processId> in its environment: the command and
# every descendant, also those that left its session or group (daemons), as long as they kept their env.
marked() {
  grep -lzx "NODES_RUN=$1" /proc/[0-9]*/environ 2>/dev/null | while IFS=/ read -r _ _ pid _; do
    [ "$pid" != "$$" ] && printf '%s ' "$pid"
  done
}

# Ends a run: sends the signal to every marked process, then SIGKILL to those left after the grace period
# (ms), until none is left. Returns 1 when some marked process is still alive 5 s after SIGKILL.
# args: processId signal graceMs markerFile
end_run() {
  run=$1 sig=$2 grace=$3 marker=$4
  pids=$(marked "$run")
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086 # one argument per pid
  kill "-$sig" $pids 2>/dev/null
  i=0
  while [ "$i" -lt $((grace / 50)) ]; do
    [ -n "$(marked "$run")" ] || return 0
    sleep 0.05
    i=$((i + 1))
  done
  [ -f "$marker" ] && [ ! -f "${marker%/*}/end" ] && printf KILL > "$marker"
  j=0
  while [ "$j" -lt 100 ]; do
    pids=$(marked "$run")
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.05
    j=$((j + 1))
  done
  return 1
}

# Prints the records of the given processes: first, for each, its liveness line "@alive <id> <0|1>" (read
# before its files, so that a record with neither an end nor a live supervisor was provably lost), then the
# regular files' sizes "@size <id> <file> <bytes>", then "@tar" and a tar of its small files (those of at most
# maxBytes; larger ones are only named by their size), the whole tar cut at totalBytes.
# args: processesDir maxBytes totalBytes processId...
print_records() {
  dir=$1 max=$2 total=$3
  shift 3
  files=
  for id in "$@"; do
    p="$dir/$id"
    # shellcheck disable=SC2254 # ID_GLOB is a pattern
    case $id in $ID_GLOB) ;; *) continue ;; esac
    if [ ! -d "$p" ] || [ -L "$p" ]; then continue; fi
    sup=
    [ -f "$p/start" ] && read -r _ _ sup < "$p/start"
    case $sup in '' | *[!0-9]*) alive=0 ;; *) if kill -0 "$sup" 2>/dev/null; then alive=1; else alive=0; fi ;; esac
    printf '@alive %s %s\n' "$id" "$alive"
    for f in meta start end kill_requested timed_out stdout stderr; do
      if [ -e "$p/$f" ] || [ -L "$p/$f" ]; then files="$files $id/$f"; fi
    done
  done
  small=
  if [ -n "$files" ]; then
    # shellcheck disable=SC2086 # names are ids and fixed file names: no spaces, no globs
    listing=$(cd "$dir" && ls -ln -- $files 2>/dev/null)
    while read -r mode _ _ _ size _ _ _ name _; do
      case $mode in -*) ;; *) continue ;; esac
      case $size in '' | *[!0-9]*) continue ;; esac
      printf '@size %s %s %s\n' "${name%/*}" "${name#*/}" "$size"
      case ${name#*/} in stdout | stderr) continue ;; esac
      [ "$size" -le "$max" ] && small="$small $name"
    done <<LISTING
$listing
LISTING
  fi
  printf '@tar\n'
  # shellcheck disable=SC2086
  [ -z "$small" ] || tar -c -f - -C "$dir" $small 2>/dev/null | head -c "$total"
}

# Prints "@ended <0|1>" (whether the end was written before the output was read: then the slices hold all
# there is), then for stdout and stderr "@<stream> <kept size> <n>" and exactly n bytes of it from the offset
# (n at most the limit), then the record as print_records does.
# args: processesDir processId stdoutOffset stdoutLimit stderrOffset stderrLimit maxFileBytes totalBytes
print_logs() {
  p="$1/$2"
  if [ -f "$p/end" ]; then printf '@ended 1\n'; else printf '@ended 0\n'; fi
  slice stdout "$3" "$4"
  slice stderr "$5" "$6"
  print_records "$1" "$7" "$8" "$2"
}

# One stream's slice for print_logs. args: stream offset limit
slice() {
  size=$(wc -c < "$p/$1" 2> /dev/null || printf 0)
  n=$((size - $2))
  [ "$n" -lt 0 ] && n=0
  [ "$n" -gt "$3" ] && n=$3
  printf '@%s %s %s\n' "$1" "$size" "$n"
  # Exactly n bytes, even if the file shrank meanwhile: the reader counts on it.
  [ "$n" -gt 0 ] && { tail -c +$(($2 + 1)) "$p/$1" 2> /dev/null | head -c "$n"; head -c "$n" /dev/zero; } | head -c "$n"
  return 0
}
