#!/bin/sh
# Test helper for event commands: log-args.sh <logfile> <exit-code> [args...]
# appends the remaining arguments as one line to <logfile>, exits with <exit-code>.
log="$1"
code="$2"
shift 2
echo "$#:$*" >> "$log"
exit "$code"
