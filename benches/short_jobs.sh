#!/usr/bin/env bash
# Many short jobs (issue 19): --jobs jobs of 5-15 s of English (the fixture clips, pairs of
# them, and each again as 8 kHz telephone audio; benches/short_jobs.py clips) through
#   * ytcaption: one `worker --workers W -t THREADS --exit-when-idle` process (one pipeline, the
#     model loaded once) after the jobs were queued with `jobs submit` (queueing not timed);
#     W = 1 and 2;
#   * faster-whisper 1.2.x int8 in one Python process, the model loaded once, transcribing
#     the same list: cpu_threads THREADS on one thread, and THREADS threads of one cpu_thread
#     each (num_workers), each with and without its VAD filter.
# Same weights (the CTranslate2 model and its ggml q8_0 import), greedy decoding as in
# compare_faster_whisper.sh. Wall time includes the model load on both sides. Medians of
# --runs, interleaved. Also prints ytcaption's per-job overhead: 1 - (the jobs' transcribe
# stage time, from the worker's JSON log) / (workers x wall time).
#
#   benches/short_jobs.sh [--runs 3] [--jobs 200] [--model tiny.en] [--threads 2]
#       [--fw-configs "1:off 2:off 1:on 2:on"] [--no-build | --ytcaption BIN]
# (--fw-configs: faster-whisper's runs as THREADS:VAD, default all four with --threads 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 jobs=200 model=tiny.en threads=2 build=1 bin="" fw_configs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --fw-configs) fw_configs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --ytcaption) bin=$2; build=0; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "short_jobs.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
. benches/lib.sh
work=$(mktemp -d /tmp/ytc-short.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin=$(bench_binary "$build" "$bin" "$work")
bench_venv
bench_models "$bin" "$model"
dirs=("$root/fixtures/audio")
[ -d "$root/../shared/fixtures/audio" ] && dirs+=("$root/../shared/fixtures/audio")
"$py" benches/short_jobs.py clips --out "$work/clips" --count "$jobs" "${dirs[@]}"
list=$work/clips/list.tsv
now() { date +%s.%N; }
declare -A rate wer

# ytcaption WORKERS RUN
yc() {
  local w=$1 r=$2 home=$work/home-$1-$2
  mkdir -p "$home"
  cut -f1 "$list" | while read -r clip; do
    "$bin" --home "$home" jobs submit "$clip" -l en
  done >"$home.ids"
  local t0 t1
  t0=$(now)
  "$bin" --home "$home" --log-format json --log-level info worker --workers "$w" -t "$threads" \
    -m "$q8" --exit-when-idle >/dev/null 2>"$home.log"
  t1=$(now)
  local done_
  done_=$(ls "$home/results" | wc -l)
  [ "$done_" = "$jobs" ] || { echo "ytcaption: $done_ of $jobs jobs have results" >&2; exit 1; }
  "$py" - "$home" "$home.ids" >"$home.texts" <<'PY'
import json, sys
home, ids = sys.argv[1:3]
texts = [open(f"{home}/results/{i}/transcript.txt", encoding="utf-8").read().strip()
         for i in open(ids).read().split()]
json.dump(texts, sys.stdout)
PY
  local busy
  busy=$("$py" - "$home.log" <<'PY'
import json, sys
ms = 0
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if rec.get("fields", {}).get("message") == "stage done" and rec.get("span", {}).get("stage") == "transcribe":
        ms += rec["fields"]["ms"]
print(ms / 1000)
PY
)
  local key="ytcaption q8_0, $w worker(s)"
  rate[$key]+="$(awk -v a="$t0" -v b="$t1" -v n="$jobs" 'BEGIN { print n / (b - a) }') "
  wer[$key]=$("$py" benches/short_jobs.py score --list "$list" --texts "$home.texts")
  overhead[$key]+="$(awk -v a="$t0" -v b="$t1" -v w="$w" -v s="$busy" 'BEGIN { print 1 - s / (w * (b - a)) }') "
  say "run $r, $key: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, transcribe stages $busy s, WER ${wer[$key]}"
}
declare -A overhead

# fw WORKERS VAD RUN
fw() {
  local w=$1 vad=$2 r=$3 out=$work/fw-$1-$2-$3.json
  local t0 t1
  t0=$(now)
  "$py" benches/short_jobs.py fw --list "$list" --model-dir "$ct2_dir" --compute-type int8 \
    --threads "$threads" --workers "$w" --vad "$vad" --out "$out"
  t1=$(now)
  local key="faster-whisper int8, $w thread(s) × $((threads / w)) cpu_threads, vad $vad"
  rate[$key]+="$(awk -v a="$t0" -v b="$t1" -v n="$jobs" 'BEGIN { print n / (b - a) }') "
  wer[$key]=$("$py" benches/short_jobs.py score --list "$list" --texts "$out")
  say "run $r, $key: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, WER ${wer[$key]}"
}

for r in $(seq "$runs"); do
  for c in ${fw_configs:-1:off $threads:off 1:on $threads:on}; do
    fw "${c%:*}" "${c#*:}" "$r"
  done
  yc 1 "$r"; yc 2 "$r"
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
best=0
for k in "${!rate[@]}"; do
  case $k in faster-whisper*)
    m=$(echo "${rate[$k]}" | median)
    best=$(awk -v a="$m" -v b="$best" 'BEGIN { print (a > b ? a : b) }') ;;
  esac
done
echo
echo "$jobs jobs, model $model, $threads threads, $(nproc) cores, median of $runs runs"
echo
printf '| engine | jobs/s | WER | vs best faster-whisper | per-job overhead |\n|---|---|---|---|---|\n'
while IFS= read -r k; do
  m=$(echo "${rate[$k]}" | median)
  o=""
  [ -n "${overhead[$k]:-}" ] && o=$(echo "${overhead[$k]}" | median | awk '{ printf "%.1f %%", $1 * 100 }')
  printf '| %s | %.2f | %s | %.2f | %s |\n' "$k" "$m" "${wer[$k]}" "$(awk -v a="$m" -v b="$best" 'BEGIN { print a / b }')" "$o"
done < <(printf '%s\n' "${!rate[@]}" | sort)
