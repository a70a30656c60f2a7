#!/usr/bin/env bash
# The whole test suite (scripts/test.sh, the README's test command) on a machine kept busy, as
# on a laptop or CI runner where a build runs beside it (issue 19): --busy N processes spin at
# normal priority for as long as the suite runs (default: half the CPUs this process may use,
# at least 1: on a 2-core machine the suite then gets about two thirds of the CPU time). Prints
# test.sh's exit status and wall time and exits with that status. Not run by CI (it takes
# about 1.4 × a plain run of scripts/test.sh).
#
#   benches/under_load.sh [--busy N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
busy=$(( $(nproc) / 2 ))
[ "$busy" -ge 1 ] || busy=1
while [ $# -gt 0 ]; do
  case "$1" in
    --busy) busy=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "under_load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for _ in $(seq "$busy"); do
  bash -c 'while :; do :; done' &
  pids+=($!)
done
echo "== $busy busy process(es) beside scripts/test.sh on $(nproc) CPU(s)" >&2
start=$(date +%s)
set +e
"$root/scripts/test.sh"
rc=$?
set -e
echo "== scripts/test.sh under load ($busy busy of $(nproc) CPUs): exit status $rc in $(( $(date +%s) - start )) s" >&2
exit "$rc"
