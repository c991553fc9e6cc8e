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
NL='
'
ID_GLOB='p-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'

# Sets "now" to the time in Unix ms. args: 1 when $EPOCHREALTIME is the shell's clock (busybox ash and bash keep
# it so whatever the environment says; dash has none, and a variable of that name is data: see launch.sh), else 0.
# shellcheck disable=SC2034 # now is for the caller
now_ms() {
  # shellcheck disable=SC3028 # read only where the shell keeps it as its clock
  e=${EPOCHREALTIME-}
  if [ "$1" = 1 ]; then
    case $e in
      [1-9]*[.,][0-9][0-9][0-9]*)
        f=${e#*[.,]}
        now=${e%%[.,]*}${f%"${f#???}"}
        return
        ;;
    esac
  fi
  t=$(date +%s%N 2>/dev/null)
  case $t in *N | '') ;; *) now=$((t / 1000000)); return ;; esac
  # busybox date has no %N; its adjtimex applet reads the clock in microseconds without changing it.
  t=$(adjtimex 2>/dev/null | awk '/tv_sec/ {s=$2} /tv_usec/ {u=$2} END {if (s) printf "%d%03d", s, u / 1000}')
  [ -n "$t" ] && { now=$t; return; }
  now=$(($(date +%s) * 1000))
}

# Sets "ooms" to how many times the out-of-memory killer has killed a process of this node (its cgroup's
# counter, v2 or v1).
# shellcheck disable=SC2034 # ooms is for the caller
oom_kills() {
  ooms=0
  for f in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
    [ -r "$f" ] || continue
    while read -r key value; do
      [ "$key" = oom_kill ] && { ooms=$value; return; }
    done < "$f"
  done
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
  scan_records "$@"
  shift 2
  print_scanned "$1"
}

# The first half of print_records: reads the liveness and the listing, and keeps the lines to print in
# "scanned", the small files in "small" (their bytes in "small_bytes") and the sizes of the last process's
# streams in "size_stdout" and "size_stderr". The working directory becomes processesDir.
# args: processesDir maxBytes totalBytes processId...
scan_records() {
  dir=$1 max=$2
  shift 3
  files='' scanned='' small='' small_bytes=0 small_count=0 size_stdout=0 size_stderr=0
  for id in "$@"; do
    p="$dir/$id"
    # shellcheck disable=SC2254 # ID_GLOB is a pattern
    case $id in $ID_GLOB) ;; *) continue ;; esac
    if [ ! -d "$p" ] || [ -L "$p" ]; then continue; fi
    sup=
    [ -f "$p/start" ] && read -r _ _ sup < "$p/start"
    case $sup in '' | *[!0-9]*) alive=0 ;; *) if kill -0 "$sup" 2>/dev/null; then alive=1; else alive=0; fi ;; esac
    scanned="$scanned@alive $id $alive$NL"
    for f in meta start end kill_requested timed_out stdout stderr; do
      if [ -e "$p/$f" ] || [ -L "$p/$f" ]; then files="$files $id/$f"; fi
    done
  done
  [ -n "$files" ] && cd -- "$dir" 2>/dev/null || return 0
  # shellcheck disable=SC2086 # names are ids and fixed file names: no spaces, no globs
  listing=$(ls -ln -- $files 2>/dev/null)
  while read -r mode _ _ _ size _ _ _ name _; do
    case $mode in -*) ;; *) continue ;; esac
    case $size in '' | *[!0-9]*) continue ;; esac
    scanned="$scanned@size ${name%/*} ${name#*/} $size$NL"
    case ${name#*/} in
      stdout) size_stdout=$size ;;
      stderr) size_stderr=$size ;;
      *)
        [ "$size" -le "$max" ] || continue
        small="$small $name"
        small_bytes=$((small_bytes + size))
        small_count=$((small_count + 1))
        ;;
    esac
  done <<LISTING
$listing
LISTING
}

# The second half of print_records: prints what scan_records kept, then the tar, cut at totalBytes (a tar of
# files that all fit needs no cut: each takes at most its size and 1 KiB, the end at most 10 KiB).
# args: totalBytes
print_scanned() {
  printf '%s@tar\n' "$scanned"
  [ -n "$small" ] || return 0
  # shellcheck disable=SC2086
  if [ $((small_bytes + 1024 * small_count + 10240)) -le "$1" ]; then
    tar -c -f - $small 2>/dev/null
  else
    tar -c -f - $small 2>/dev/null | head -c "$1"
  fi
  return 0
}

# Prints "@ended <0|1>" (whether the end was written before the output was read: then the slices hold all
# there is), then for stdout and stderr "@<stream> <kept size> <n>" and exactly n bytes of it from the offset
# (n at most the limit), then the record as print_records does (its liveness and sizes read before the slices).
# args: processesDir processId stdoutOffset stdoutLimit stderrOffset stderrLimit maxFileBytes totalBytes
print_logs() {
  p="$1/$2"
  if [ -f "$p/end" ]; then printf '@ended 1\n'; else printf '@ended 0\n'; fi
  scan_records "$1" "$7" "$8" "$2"
  slice stdout "$3" "$4" "$size_stdout"
  slice stderr "$5" "$6" "$size_stderr"
  print_scanned "$8"
}

# One stream's slice for print_logs, of the process scan_records read last. args: stream offset limit size
slice() {
  n=$(($4 - $2))
  [ "$n" -lt 0 ] && n=0
  [ "$n" -gt "$3" ] && n=$3
  printf '@%s %s %s\n' "$1" "$4" "$n"
  [ "$n" -gt 0 ] || return 0
  # Exactly n bytes, even if the file shrank meanwhile: the reader counts on it.
  if [ "$2" = 0 ]; then
    cat -- "$p/$1" /dev/zero 2> /dev/null | head -c "$n"
  else
    { tail -c +$(($2 + 1)) "$p/$1" 2> /dev/null | head -c "$n"; head -c "$n" /dev/zero; } | head -c "$n"
  fi
  return 0
}
