#!/usr/bin/env bash
# Peak memory of a long input (issue 19): `ytcaption transcribe` with its defaults (bundled
# Silero VAD, -t = the cores) on 1 minute and on --hours hours of English speech (the
# compare_faster_whisper.sh clip, repeated), under /usr/bin/time -v: peak RSS, wall time,
# real-time factor, and the ratio of the two peaks (target: <= 1.3). Audio is decoded and
# chunked as a stream, so the long input should cost about what the minute does.
#
#   benches/long_rss.sh [--hours 3] [--model FILE] [--threads 0] [--no-build | --ytcaption BIN]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hours=3 model="" threads=0 build=1 bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --ytcaption) bin=$2; build=0; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "long_rss.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
. benches/lib.sh
work=$(mktemp -d /tmp/ytc-long.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin=$(bench_binary "$build" "$bin" "$work")
if [ -z "$model" ]; then
  bench_venv
  bench_models "$bin" tiny.en
  model=$q8
fi
clip=$target/bench-audio/en_concat.wav
if [ ! -f "$clip" ]; then
  bench_venv
  dirs=("$root/fixtures/audio")
  [ -d "$root/../shared/fixtures/audio" ] && dirs+=("$root/../shared/fixtures/audio")
  mkdir -p "$(dirname "$clip")"
  "$py" benches/compare_faster_whisper.py clip --out "$clip" --text "${clip%.wav}.txt" \
    --min-seconds 300 --gap 1.5 "${dirs[@]}"
fi
clip_s=$(soxi -D "$clip")
long_s=$(awk -v h="$hours" 'BEGIN { print h * 3600 }')
reps=$(awk -v a="$long_s" -v b="$clip_s" 'BEGIN { print int(a / b) }')
say "making 1 minute and $hours h ($reps copies of the $clip_s s clip, trimmed) of audio"
sox "$clip" "$work/short.wav" trim 0 60
sox "$clip" "$work/long.wav" repeat "$reps" trim 0 "$long_s" 2>/dev/null \
  || sox "$clip" "$work/long.wav" repeat "$reps"
mkdir "$work/home"
# run NAME: transcribes $work/NAME.wav; prints "peak_kib wall_s audio_s".
run() {
  /usr/bin/time -v -o "$work/$1.time" "$bin" --home "$work/home" transcribe "$work/$1.wav" \
    -m "$model" -l en -t "$threads" -F txt -o "$work/$1.txt" 2>"$work/$1.log" \
    || { tail -5 "$work/$1.log" >&2; exit 1; }
  local kib wall
  kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$1.time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/$1.time")
  echo "$kib $wall $(soxi -D "$work/$1.wav")"
}
read -r s_kib s_wall s_audio < <(run short)
say "1 minute: peak $((s_kib / 1024)) MiB, $s_wall s"
read -r l_kib l_wall l_audio < <(run long)
say "$hours h: peak $((l_kib / 1024)) MiB, $l_wall s"
echo
echo "model $(basename "$model"), -t $threads, $(nproc) cores"
echo
printf '| input | audio s | wall s | RTF | peak RSS MiB | vs 1 minute | words |\n|---|---|---|---|---|---|---|\n'
printf '| 1 minute | %.0f | %.1f | %.4f | %d | 1.00 | %d |\n' "$s_audio" "$s_wall" \
  "$(awk -v a="$s_wall" -v b="$s_audio" 'BEGIN { print a / b }')" $((s_kib / 1024)) "$(wc -w <"$work/short.txt")"
printf '| %s h | %.0f | %.1f | %.4f | %d | %.2f | %d |\n' "$hours" "$l_audio" "$l_wall" \
  "$(awk -v a="$l_wall" -v b="$l_audio" 'BEGIN { print a / b }')" $((l_kib / 1024)) \
  "$(awk -v a="$l_kib" -v b="$s_kib" 'BEGIN { print a / b }')" "$(wc -w <"$work/long.txt")"
