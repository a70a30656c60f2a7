#!/usr/bin/env bash
# The thread budget on this machine: `ytcaption transcribe` with the default threads against
# `-t N` combinations people pass (whisper.cpp's habit: -t = the cores), each median of --runs.
#
#   benches/threads.sh [--runs 3] [--seconds 120] [--model FILE] [--ytcaption BIN] [--baseline BIN]
#
# * Audio: the committed English clips (fixtures/audio), each followed by 1.5 s of silence,
#   repeated to --seconds (sox), 16 kHz mono WAV.
# * Model: --model, else $YTCAPTION_TEST_MODEL, else target/test-data/models/ggml-tiny.en.bin
#   (scripts/test.sh imports it).
# * Configurations: default, -t 1, -t <cores>, -t <2 × cores>, -p 4 -t <cores>; runs interleaved,
#   each with an empty home (energy detector), language en. The table shows the median wall
#   time and its ratio to the default's. --baseline BIN runs the same configurations with another
#   binary (e.g. a build before the thread budget) in the same rounds.
# * Target (issue 19): -t <cores> within 10 % of the default.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 seconds=120 model=${YTCAPTION_TEST_MODEL:-$root/target/test-data/models/ggml-tiny.en.bin}
bin=$root/target/release/ytcaption baseline=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --ytcaption) bin=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cores=$(nproc)
clips=()
for f in "$root"/fixtures/audio/en_*.wav; do
  sox "$f" -r 16000 -c 1 "$work/$(basename "$f")" pad 0 1.5
  clips+=("$work/$(basename "$f")")
done
list=()
while :; do
  list+=("${clips[@]}")
  sox "${list[@]}" "$work/audio.wav"
  len=$(soxi -D "$work/audio.wav")
  awk -v l="$len" -v s="$seconds" 'BEGIN { exit !(l >= s) }' && break
done
echo "audio: $(printf '%.1f' "$len") s, model $(basename "$model"), $cores cores, $runs runs" >&2
configs=("" "-t 1" "-t $cores" "-t $((2 * cores))" "-p 4 -t $cores")
bins=("$bin"); [ -n "$baseline" ] && bins+=("$baseline")
declare -A times
for r in $(seq "$runs"); do
  for b in "${bins[@]}"; do
    for c in "${configs[@]}"; do
      home=$(mktemp -d -p "$work")
      s=$(date +%s.%N)
      # shellcheck disable=SC2086
      "$b" --home "$home" transcribe "$work/audio.wav" -m "$model" -l en $c >/dev/null 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
      e=$(date +%s.%N)
      times["$b|$c"]+="$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }') "
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf '%-10s %-18s %8s %8s\n' binary flags "wall s" "÷ default"
for b in "${bins[@]}"; do
  base=$(echo "${times["$b|"]}" | median)
  name=new; [ "$b" = "$baseline" ] && name=baseline
  for c in "${configs[@]}"; do
    m=$(echo "${times["$b|$c"]}" | median)
    printf '%-10s %-18s %8.2f %8.2f\n' "$name" "${c:-(default)}" "$m" "$(awk -v m="$m" -v b="$base" 'BEGIN { print m / b }')"
  done
done
