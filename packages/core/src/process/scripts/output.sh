# Prints a process's record and a page of each stream, as print_logs does.
# args: stateDir processId stdoutOffset stdoutLimit stderrOffset stderrLimit maxFileBytes totalBytes
# Exit code 3: unknown process.
[ -f "$1/processes/$2/meta" ] || exit 3
print_logs "$1/processes" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
