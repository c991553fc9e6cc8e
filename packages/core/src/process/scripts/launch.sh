# Starts one process and supervises it for its whole life: this script is the main process of the exec that
# starts it, so the engine sees the exec end when the process ends (its exit code is the process's).
# It runs the command in a session of its own, marked NODES_RUN=<processId> in its environment (inherited by
# every descendant), copies its output through two FIFOs into capped files, enforces the timeout, and writes
# `end` atomically and last. Once running it prints "@started <pid> <started at ms>", then with pageBytes 0
# closes its streams (the manager detaches); else it stays attached and, at the end, prints the record and the
# first pageBytes of each stream as print_logs does, so that running to the end takes this one exec.
# args: stateDir processId cwd capBytes timeoutMs graceMs pageBytes maxFileBytes totalBytes input(lines|file)
#   mode(shell|argv) [argv...]
# input: lines for a small stdin,
#   read with the shell's read (no fork, one byte per read), file for a large one, copied to a file first.
# stdin: the meta JSON on one line, then (mode shell) the command line's exact bytes.
# Exit codes before the start: 96 working directory missing, 97 a tool missing, 98 state directory unusable.
set -u
state=$1 id=$2 cwd=$3 cap=$4 timeout_ms=$5 grace_ms=$6 page=$7 max_file=$8 total=$9 input=${10} mode=${11}
shift 11
# Whether $EPOCHREALTIME is this shell's clock (busybox ash, bash: an assignment leaves it the time) or a plain
# variable (dash: the node's or the process's environment may set one), which the command keeps as it was.
# shellcheck disable=SC3028
kept=${EPOCHREALTIME-}
EPOCHREALTIME=0.000000
clock=1
[ "$EPOCHREALTIME" = 0.000000 ] && clock=0
EPOCHREALTIME=$kept
d="$state/processes/$id"
# Read what is left of stdin before an early exit: Podman cuts an exec's attach connection when its process
# exits with stdin unread, and the message on stderr would be lost (Docker does not mind).
drain() { cat > /dev/null 2>&1 || while IFS= read -r _; do :; done; }
meta='' cmd=''
if [ "$input" = lines ]; then
  IFS= read -r meta
  line=
  while IFS= read -r line; do cmd=$cmd$line$NL; done
  # The last line has no newline (the command's exact bytes: with one, the loop took it and this one is empty).
  cmd=$cmd$line
fi
missing=
for tool in setsid mkfifo head tail kill cat mv rm grep; do
  command -v "$tool" > /dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] || { drain; printf 'the node image lacks what processes need:%s\n' "$missing" >&2; exit 97; }
cd -- "$cwd" 2> /dev/null || { drain; printf 'working directory "%s" does not exist or is not a directory\n' "$cwd" >&2; exit 96; }
{ { [ -d "$state/processes" ] || mkdir -p -- "$state/processes"; } && mkdir -- "$d" && mkfifo "$d/out.fifo" "$d/err.fifo"; } 2> /dev/null ||
  { drain; printf 'cannot create the state directory of process %s under %s\n' "$id" "$state" >&2; exit 98; }
if [ "$input" = lines ]; then
  printf '%s\n' "$meta" > "$d/meta"
else
  cat > "$d/input" 2> /dev/null || { drain; printf 'cannot create the state directory of process %s under %s\n' "$id" "$state" >&2; exit 98; }
  head -n 1 "$d/input" > "$d/meta"
  # The command goes to the shell as one argument of its exact bytes (the x keeps trailing newlines).
  cmd=$(tail -n +2 "$d/input"; printf x)
  cmd=${cmd%x}
  rm -f "$d/input"
fi
now_ms "$clock"
started=$now
oom_kills
ooms_before=$ooms
# Copies a stream into its file, at most cap+1 bytes, writing each read at once (so output can be followed).
# head -c holds what it reads until it ends (busybox; GNU's too, in stdio, unless stdbuf unbuffers it). dd
# writes each read at once; busybox's counts bytes exactly, GNU's iflag=count_bytes counts a short read from a
# pipe as a whole block and would cut output: GNU userlands (stdbuf is theirs) use head under stdbuf -o0. A dd
# without iflag=count_bytes (busybox before 1.35) refuses it before reading anything: then plain head.
# args: file
if command -v stdbuf > /dev/null 2>&1; then
  keep() { stdbuf -o0 head -c $((cap + 1)) > "$1"; }
else
  keep() {
    dd bs=65536 count=$((cap + 1)) iflag=count_bytes status=none > "$1" 2> /dev/null && return 0
    [ -s "$1" ] || head -c $((cap + 1)) > "$1"
  }
fi
# Nothing started here may hold the exec's own streams: the engine reports the exec's end only once they close.
{ keep "$d/stdout"; cat > /dev/null; } < "$d/out.fifo" > /dev/null 2>&1 &
out_reader=$!
{ keep "$d/stderr"; cat > /dev/null; } < "$d/err.fifo" > /dev/null 2>&1 &
err_reader=$!
# The command is the first the kernel's out-of-memory killer picks (oom_score_adj 1000, which needs no
# privilege), not this supervisor: a supervisor killed for memory would make the process lost, not oom_killed.
if [ "$mode" = shell ]; then
  { { printf 1000 > /proc/self/oom_score_adj; } 2> /dev/null; NODES_RUN=$id exec setsid /bin/sh -c "$cmd"; } > "$d/out.fifo" 2> "$d/err.fifo" < /dev/null &
else
  { { printf 1000 > /proc/self/oom_score_adj; } 2> /dev/null; NODES_RUN=$id exec setsid "$@"; } > "$d/out.fifo" 2> "$d/err.fifo" < /dev/null &
fi
child=$!
printf '%s %s %s\n' "$child" "$started" "$$" > "$d/start.tmp" && mv -f "$d/start.tmp" "$d/start"
watchdog=
if [ "$timeout_ms" -gt 0 ]; then
  (
    # Ended early by the supervisor: take the sleep along, so that no idle sleep outlives the process.
    trap 'kill $nap 2>/dev/null; exit 0' TERM
    sleep "$(secs "$timeout_ms")" &
    nap=$!
    wait $nap
    [ -e "$d/end" ] && exit 0
    printf TERM > "$d/timed_out"
    end_run "$id" TERM "$grace_ms" "$d/timed_out"
  ) < /dev/null > /dev/null 2>&1 &
  watchdog=$!
fi
printf '@started %s %s\n' "$child" "$started"
if [ "$page" -gt 0 ]; then exec < /dev/null 2> /dev/null; else exec < /dev/null > /dev/null 2>&1; fi
wait "$child"
code=$?
# The end's time is the command's; taken before the readers are waited for (in dash a fork, which gives them time).
now_ms "$clock"
ended=$now
# The FIFOs are open at both ends by now (the command could not start before): their names can go.
rm -f "$d/out.fifo" "$d/err.fifo" > /dev/null 2>&1 &
# Let the readers copy what the command wrote before it ended; a background child that keeps the FIFOs open
# keeps them running, so wait for them at most 200 ms (a trapped signal ends the wait).
if kill -0 "$out_reader" 2> /dev/null || kill -0 "$err_reader" 2> /dev/null; then
  trap : USR1
  (
    trap 'kill $pause 2>/dev/null; exit 0' TERM
    sleep 0.2 &
    pause=$!
    wait $pause
    kill -USR1 $$
  ) < /dev/null > /dev/null 2>&1 &
  timer=$!
  wait "$out_reader" "$err_reader"
  kill "$timer" 2> /dev/null
fi
reason=exited
[ -f "$d/kill_requested" ] && reason=killed
[ -f "$d/timed_out" ] && reason=timed_out
# Killed by SIGKILL while the node's out-of-memory kills went up: the kernel ended it for memory.
oom=
if [ "$code" = 137 ]; then
  oom_kills
  [ "$ooms" -gt "$ooms_before" ] && oom=' oom_killed'
fi
printf '%s %s %s%s\n' "$code" "$ended" "$reason" "$oom" > "$d/end.tmp" && mv -f "$d/end.tmp" "$d/end"
[ -n "$watchdog" ] && kill "$watchdog" 2> /dev/null
[ "$page" -gt 0 ] && print_logs "$state/processes" "$id" 0 "$page" 0 "$page" "$max_file" "$total"
exit "$code"
