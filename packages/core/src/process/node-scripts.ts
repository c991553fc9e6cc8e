/**
 * The POSIX shell scripts that keep processes and their records inside the node, so that they outlive the
 * manager. They need `/bin/sh`, `setsid`, `mkfifo`, `dd` (with `iflag=count_bytes`; else `head`, whose output then
 * shows only when the process ends, with busybox), `head`, `tail`, `wc` and `kill`, as busybox and coreutils
 * give. Layout of a process's record, under `<stateDir>/processes/<processId>/`:
 * `meta.json` (name, command, path, env keys), `started_at` / `ended_at` (Unix ms; where `date` has no `%N`, busybox's
 * `adjtimex` gives ms, else second precision), `pid` (the process group leader), `supervisor`, `stdout` / `stderr` (at most cap+1 bytes: a
 * size above the cap means cut), `exit_code`, and markers `kill_requested`, `timed_out`, `lost`.
 */

/** Shared shell functions. */
const COMMON = `
now_ms() {
  t=$(date +%s%N 2>/dev/null)
  case $t in *N|'') ;; *) echo $(( t / 1000000 )); return;; esac
  # busybox date has no %N; its adjtimex applet reads the clock in microseconds without changing it.
  t=$(adjtimex 2>/dev/null | awk '/tv_sec/ {s=$2} /tv_usec/ {u=$2} END {if (s) printf "%d%03d", s, u / 1000}')
  [ -n "$t" ] && { echo "$t"; return; }
  echo $(( $(date +%s) * 1000 ))
}
secs() { printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); }
alive() { kill -0 "-$1" 2>/dev/null; }
# Prints one process's record as READ_SCRIPT documents it. args: processesDir processId
record() {
  p="$1/$2"
  [ -f "$p/meta.json" ] || { echo "@missing $2"; return; }
  echo "@process $2"
  for f in pid supervisor started_at ended_at exit_code timed_out kill_requested lost; do
    [ -f "$p/$f" ] && echo "$f $(cat "$p/$f")"
  done
  echo "meta $(cat "$p/meta.json")"
  for s in stdout stderr; do echo "\${s}_bytes $(wc -c < "$p/$s" 2>/dev/null || echo 0)"; done
  if [ ! -f "$p/exit_code" ] && kill -0 "$(cat "$p/supervisor" 2>/dev/null)" 2>/dev/null; then echo "alive 1"; fi
}
`;

/**
 * Starts one process and returns once it runs. The supervisor (a background subshell, detached from the exec's
 * streams) runs the command in a session of its own, so that a kill reaches its whole process group, copies its
 * output through two FIFOs into capped files, enforces the timeout, and writes the exit code when the command
 * itself ends, even when a background child of it still holds its output open.
 * args: stateDir processId cwd capBytes timeoutMs graceMs mode(shell|argv) metaJson command...
 * Exit codes: 96 working directory missing, 97 state directory, setsid or supervisor unavailable, 0 started (prints
 * the process's record as READ_SCRIPT does, so that starting takes one exec).
 */
export const LAUNCH_SCRIPT = `set -u
${COMMON}
id=$2; procs="$1/processes"; d="$1/processes/$2"; cwd=$3; cap=$4; timeout_ms=$5; grace_ms=$6; mode=$7; meta=$8
shift 8
cd -- "$cwd" 2>/dev/null || { echo "working directory \\"$cwd\\" does not exist or is not a directory" >&2; exit 96; }
command -v setsid >/dev/null 2>&1 || { echo "the node's image has no setsid, which processes need" >&2; exit 97; }
mkdir -p -- "$d" && mkfifo "$d/out.fifo" "$d/err.fifo" || { echo "cannot create the process state directory $d" >&2; exit 97; }
printf '%s' "$meta" > "$d/meta.json"
now_ms > "$d/started_at"
# busybox's head -c holds what it reads until it ends; dd writes each read at once, so output can be followed.
if echo | dd bs=1 count=1 iflag=count_bytes status=none > /dev/null 2>&1; then
  keep() { dd bs=65536 count=$(( cap + 1 )) iflag=count_bytes status=none; }
else
  keep() { head -c $(( cap + 1 )); }
fi
(
  { keep > "$d/stdout"; cat > /dev/null; } < "$d/out.fifo" &
  out_reader=$!
  { keep > "$d/stderr"; cat > /dev/null; } < "$d/err.fifo" &
  err_reader=$!
  if [ "$mode" = shell ]; then
    setsid /bin/sh -c "$1" > "$d/out.fifo" 2> "$d/err.fifo" < /dev/null &
  else
    setsid "$@" > "$d/out.fifo" 2> "$d/err.fifo" < /dev/null &
  fi
  child=$!
  echo "$child" > "$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"
  watchdog=
  if [ "$timeout_ms" -gt 0 ]; then
    (
      # Ended early by the supervisor: take the sleep along, so that no idle sleep outlives the process.
      trap 'kill $nap 2>/dev/null; exit 0' TERM
      sleep "$(secs "$timeout_ms")" & nap=$!
      wait $nap
      [ -e "$d/exit_code" ] && exit 0
      echo TERM > "$d/timed_out"
      kill -TERM "-$child" 2>/dev/null
      i=0; while alive "$child" && [ $i -lt $(( grace_ms / 50 )) ]; do sleep 0.05; i=$(( i + 1 )); done
      alive "$child" && { echo KILL > "$d/timed_out"; kill -KILL "-$child" 2>/dev/null; }
    ) &
    watchdog=$!
  fi
  wait "$child"; code=$?
  now_ms > "$d/ended_at"
  # Let the readers copy what the command wrote before it ended; a background child that keeps the FIFOs open
  # keeps them running, so wait for them at most 200 ms.
  i=0; while [ $i -lt 20 ] && { kill -0 $out_reader || kill -0 $err_reader; } 2>/dev/null; do sleep 0.01; i=$(( i + 1 )); done
  echo "$code" > "$d/exit_code.tmp" && mv "$d/exit_code.tmp" "$d/exit_code"
  [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
  wait
  rm -f "$d/out.fifo" "$d/err.fifo"
) < /dev/null > /dev/null 2>&1 &
echo "$!" > "$d/supervisor"
i=0; while [ ! -f "$d/pid" ] && [ $i -lt 200 ]; do sleep 0.01; i=$(( i + 1 )); done
[ -f "$d/pid" ] || { echo "the supervisor of process $id did not start within 2 s" >&2; exit 97; }
record "$procs" "$id"
`;

/**
 * Prints the records of the given processes (all when none is given), one block each:
 * \`@process <id>\` then \`<key> <value>\` lines; \`@missing <id>\` for an unknown one.
 * args: stateDir [processId...]
 */
export const READ_SCRIPT = `
${COMMON}
d="$1/processes"; shift
if [ $# -eq 0 ]; then [ -d "$d" ] || exit 0; set -- $(ls "$d"); fi
for id in "$@"; do record "$d" "$id"; done
`;

/**
 * Sends a signal to a process's whole group, escalates to SIGKILL after the grace period, and returns once the
 * group is gone and the exit code is recorded, then prints the final record (as READ_SCRIPT does).
 * args: stateDir processId signal graceMs. Exit codes: 3 unknown process, 4 still alive after SIGKILL, 0 done.
 */
export const KILL_SCRIPT = `
${COMMON}
p="$1/processes/$2"; sig=$3; grace_ms=$4
[ -f "$p/pid" ] || exit 3
pg=$(cat "$p/pid")
alive "$pg" || { record "$1/processes" "$2"; exit 0; }
[ -f "$p/exit_code" ] || echo "$sig" > "$p/kill_requested"
kill -"$sig" "-$pg" 2>/dev/null
i=0
while alive "$pg"; do
  if [ $i -ge $(( grace_ms / 50 )) ]; then
    [ -f "$p/exit_code" ] || [ ! -f "$p/kill_requested" ] || echo KILL > "$p/kill_requested"
    kill -KILL "-$pg" 2>/dev/null
    break
  fi
  sleep 0.05; i=$(( i + 1 ))
done
j=0; while alive "$pg" && [ $j -lt 100 ]; do sleep 0.05; j=$(( j + 1 )); done
alive "$pg" && exit 4
k=0; while [ ! -f "$p/exit_code" ] && kill -0 "$(cat "$p/supervisor")" 2>/dev/null && [ $k -lt 100 ]; do sleep 0.05; k=$(( k + 1 )); done
record "$1/processes" "$2"
`;

/**
 * Prints the process's record (as READ_SCRIPT does), then for stdout and stderr a line
 * \`@<stream> <kept size> <n>\` followed by exactly n bytes of it from the offset, n being at most the limit.
 * The record is read first, so when it says the process has ended, the data that follows is all there is.
 * args: stateDir processId stdoutOffset stdoutLimit stderrOffset stderrLimit. Exit code 3: unknown process.
 */
export const OUTPUT_SCRIPT = `
${COMMON}
p="$1/processes/$2"
[ -f "$p/meta.json" ] || exit 3
record "$1/processes" "$2"
slice() {
  size=$(wc -c < "$p/$1" 2>/dev/null || echo 0)
  n=$(( size - $2 )); [ $n -lt 0 ] && n=0; [ $n -gt $3 ] && n=$3
  echo "@$1 $size $n"
  [ $n -gt 0 ] && tail -c +$(( $2 + 1 )) "$p/$1" | head -c $n
}
slice stdout "$3" "$4"
slice stderr "$5" "$6"
exit 0
`;

/**
 * Marks every process of a freshly restored state directory that had not ended as lost (SIGKILL, exit 137),
 * after its node was reset. args: stateDir
 */
export const MARK_LOST_SCRIPT = `
${COMMON}
d="$1/processes"
[ -d "$d" ] || exit 0
for p in "$d"/*; do
  [ -f "$p/exit_code" ] && continue
  echo 1 > "$p/lost"; now_ms > "$p/ended_at"; echo 137 > "$p/exit_code"
  rm -f "$p/out.fifo" "$p/err.fifo"
done
`;
