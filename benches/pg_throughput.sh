#!/usr/bin/env bash
# Short jobs through the journals (issue 16): --jobs copies of a short clip (the JFK clip,
# 11 s) queued, then run by 2 workers until the queue is empty; jobs per second for
#   * sled: one process, `worker --workers 2 -t 2 -p 1 --exit-when-idle`;
#   * PostgreSQL, one process: the same command with `--journal postgres://…`;
#   * PostgreSQL, two processes: `worker --workers 1 -t 1 -p 1` twice on the same database
#     (what two machines would do), timed until every job completed.
# Queueing is not timed; every run starts from a fresh journal. Medians of --runs,
# interleaved.
#
#   benches/pg_throughput.sh [--runs 3] [--jobs 200] [--model FILE] [--ytcaption BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 jobs=200
model=${YTCAPTION_TEST_MODEL:-$root/target/test-data/models/ggml-tiny.en.bin}
bin=$root/target/release/ytcaption
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --ytcaption) bin=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/ytc-throughput.XXXXXX)
chmod 755 "$work"
pgdir=$work/pg
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$root/scripts/start-postgres.sh" --stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
clip=$root/fixtures/audio/en_jfk.wav
url=$("$root/scripts/start-postgres.sh" "$pgdir")
base=${url%/*}
port=${base##*:}
psql_() { "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -X -q -At -h 127.0.0.1 -p "$port" -U ytcaption "$@"; }
echo "$jobs jobs of $(basename "$clip"), model $(basename "$model"), $(nproc) cores, $runs runs" >&2

# queue JOURNAL_ARGS...: submits $jobs jobs (not timed).
queue() {
  for i in $(seq "$jobs"); do
    "$bin" "$@" jobs submit "$clip" -l en >/dev/null
  done
}
now() { date +%s.%N; }
declare -A times
for r in $(seq "$runs"); do
  # sled, one process.
  home=$work/sled-$r
  queue --home "$home"
  t0=$(now)
  "$bin" --home "$home" worker --workers 2 -t 2 -p 1 -m "$model" --exit-when-idle >/dev/null 2>"$work/sled-$r.log"
  t1=$(now)
  done_=$(ls "$home"/results 2>/dev/null | wc -l)
  times[sled]+="$(awk -v a="$t0" -v b="$t1" -v n="$jobs" 'BEGIN { print n / (b - a) }') "
  echo "run $r, sled: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s ($done_ result dirs)" >&2
  # PostgreSQL, one process.
  db=one_$r
  psql_ -d postgres -c "CREATE DATABASE $db"
  j=(--journal "$base/$db" --store "$work/store-$db")
  queue "${j[@]}" --home "$work/home-$db"
  t0=$(now)
  "$bin" "${j[@]}" --home "$work/home-$db" worker --workers 2 -t 2 -p 1 -m "$model" --exit-when-idle >/dev/null 2>"$work/$db.log"
  t1=$(now)
  n=$(psql_ -d "$db" -c "SELECT count(*) FROM ytc_jobs WHERE status = 'completed'")
  [ "$n" = "$jobs" ] || { echo "postgres (one process): $n of $jobs completed" >&2; exit 1; }
  times[pg1]+="$(awk -v a="$t0" -v b="$t1" -v n="$jobs" 'BEGIN { print n / (b - a) }') "
  echo "run $r, postgres, 1 process: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2
  # PostgreSQL, two processes.
  db=two_$r
  psql_ -d postgres -c "CREATE DATABASE $db"
  j=(--journal "$base/$db" --store "$work/store-$db")
  queue "${j[@]}" --home "$work/home-$db"
  t0=$(now)
  pids=()
  for w in 1 2; do
    "$bin" "${j[@]}" --home "$work/home-$db-$w" worker --workers 1 -t 1 -p 1 -m "$model" >/dev/null 2>"$work/$db-$w.log" &
    pids+=($!)
  done
  while [ "$(psql_ -d "$db" -c "SELECT count(*) FROM ytc_jobs WHERE status = 'completed'")" != "$jobs" ]; do
    sleep 0.1
  done
  t1=$(now)
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  times[pg2]+="$(awk -v a="$t0" -v b="$t1" -v n="$jobs" 'BEGIN { print n / (b - a) }') "
  echo "run $r, postgres, 2 processes: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
printf '| journal | workers | median jobs/s | vs sled |\n|---|---|---|---|\n'
s=$(echo "${times[sled]}" | median)
for k in sled pg1 pg2; do
  m=$(echo "${times[$k]}" | median)
  case $k in
    sled) label="sled | 1 process × 2" ;;
    pg1) label="PostgreSQL | 1 process × 2" ;;
    pg2) label="PostgreSQL | 2 processes × 1" ;;
  esac
  printf '| %s | %.2f | %.2f |\n' "$label" "$m" "$(awk -v a="$m" -v b="$s" 'BEGIN { print a / b }')"
done
