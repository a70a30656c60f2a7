#!/usr/bin/env bash
# Chunk fan-out on a shared PostgreSQL journal (issue 16): one long job of real speech through
# 1, 2 and 3 single-thread worker processes (`worker --workers 1 -t 1 -p 1`) on one database;
# wall time from the workers' start to the job's completion, the speed-up against one worker,
# and the WER of each run's transcript against the clips' reference texts.
#
#   benches/fanout.sh [--runs 3] [--seconds 600] [--workers "1 2 3"] [--model FILE] [--ytcaption BIN]
#
# * Audio: the committed English clips (fixtures/audio), each followed by 1.5 s of silence,
#   repeated to --seconds (sox), 16 kHz mono WAV; default chunking (~30 s chunks).
# * PostgreSQL: scripts/start-postgres.sh in a temp dir (Debian's package, loopback), a fresh
#   database per run; results in a local store directory.
# * Runs are interleaved (1, 2, 3, 1, 2, 3, …); the table shows medians.
# * What the numbers mean on a small machine: each worker runs one whisper thread, so N
#   workers want N cores; with N above the cores the process may use, the extra worker only
#   takes turns with the others (no speed-up, and ggml's spinning threads can lose time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 seconds=600 counts="1 2 3"
model=${YTCAPTION_TEST_MODEL:-$root/target/test-data/models/ggml-tiny.en.bin}
bin=$root/target/release/ytcaption
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --workers) counts=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --ytcaption) bin=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/ytc-fanout.XXXXXX)
chmod 755 "$work"
pgdir=$work/pg
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$root/scripts/start-postgres.sh" --stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# The audio and its reference text.
clips=() ref=
while IFS=$'\t' read -r file lang text _; do
  [ "$lang" = en ] || continue
  sox "$root/fixtures/audio/$file" -r 16000 -c 1 "$work/$file" pad 0 1.5
  clips+=("$work/$file")
  texts+=("$text")
done < <(tail -n +2 "$root/fixtures/audio/transcripts.tsv")
list=() 
while :; do
  list+=("${clips[@]}")
  for t in "${texts[@]}"; do ref+="$t "; done
  sox "${list[@]}" "$work/audio.wav"
  len=$(soxi -D "$work/audio.wav")
  awk -v l="$len" -v s="$seconds" 'BEGIN { exit !(l >= s) }' && break
done
printf '%s\n' "$ref" > "$work/ref.txt"
url=$("$root/scripts/start-postgres.sh" "$pgdir")
base=${url%/*}
port=${base##*:}
psql_() { "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -X -q -At -h 127.0.0.1 -p "$port" -U ytcaption "$@"; }
echo "audio: $(printf '%.1f' "$len") s, model $(basename "$model"), $(nproc) cores, $runs runs" >&2

wer() {
  python3 - "$1" "$2" <<'PY'
import re, sys
norm = lambda s: re.sub(r"[^a-z0-9' ]+", " ", s.lower()).split()
r, h = norm(open(sys.argv[1]).read()), norm(open(sys.argv[2]).read())
d = list(range(len(h) + 1))
for i, rw in enumerate(r, 1):
    prev, d[0] = d[0], i
    for j, hw in enumerate(h, 1):
        cur = min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
        prev, d[j] = d[j], cur
print(f"{d[len(h)] / max(len(r), 1):.4f}")
PY
}

declare -A times wers
for r in $(seq "$runs"); do
  for n in $counts; do
    db=fanout_${n}_$r
    psql_ -d postgres -c "CREATE DATABASE $db"
    jurl=$base/$db
    store=$work/store-$db
    mkdir -p "$store"
    id=$("$bin" --journal "$jurl" --store "$store" --home "$work/home-submit-$db" \
      jobs submit "$work/audio.wav" -l en)
    start=$(date +%s.%N)
    pids=()
    for w in $(seq "$n"); do
      "$bin" --journal "$jurl" --store "$store" --home "$work/home-$db-$w" --log-level info \
        worker --workers 1 -t 1 -p 1 -m "$model" >/dev/null 2>"$work/worker-$db-$w.log" &
      pids+=($!)
    done
    while :; do
      s=$(psql_ -d "$db" -c "SELECT status FROM ytc_jobs WHERE id = '$id'")
      case "$s" in
        completed) break ;;
        failed|cancelled) echo "run $db: the job $s" >&2; exit 1 ;;
      esac
      sleep 0.1
    done
    end=$(date +%s.%N)
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    w=$(wer "$work/ref.txt" "$store/$id/transcript.txt")
    helped=$(cat "$work"/worker-"$db"-*.log | grep -c "transcribed a chunk of another worker's job" || true)
    echo "run $r, $n worker(s): ${t} s, WER $w, chunks done by helpers: $helped" >&2
    times[$n]+="$t "
    wers[$n]=$w
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
first=${counts%% *}
m1=$(echo "${times[$first]}" | median)
printf '| workers | median wall s | speed-up vs %s | WER |\n|---|---|---|---|\n' "$first"
for n in $counts; do
  m=$(echo "${times[$n]}" | median)
  printf '| %s | %.1f | %.2f | %s |\n' "$n" "$m" "$(awk -v a="$m1" -v b="$m" 'BEGIN { print a / b }')" "${wers[$n]}"
done
