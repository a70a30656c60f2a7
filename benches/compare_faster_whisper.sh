#!/usr/bin/env bash
# ytcaption against faster-whisper on the same audio, with the same weights, threads and decoding.
#
#   benches/compare_faster_whisper.sh [--threads N] [--runs N] [--warmup N] [--model tiny.en]
#       [--ct2-dir DIR] [--audio FILE --text FILE] [--fw-compute int8,float32]
#       [--fw-condition on,off] [--fw-vad off,on] [--mixed]
#       [--ytcaption-args "..."]... [--no-build | --ytcaption BIN]
#
# * faster-whisper 1.2.x goes into a venv, <target>/bench-venv (pip, from PyPI; CTranslate2's
#   wheel comes with it). <target> is $CARGO_TARGET_DIR, else ./target.
# * Weights: the CTranslate2 model (scripts/fetch-ct2.sh NAME, or --ct2-dir) is what
#   faster-whisper reads; ytcaption reads its import (`ytcaption model import`, f16) and that
#   import quantized (`ytcaption model quantize --type q8_0`), under <target>/bench-models.
# * Audio: by default a >= 5-minute English clip made of the committed fixtures/audio clips
#   (plus ../shared/fixtures/audio's English ones when that directory exists), each followed by
#   1.5 s of silence, repeated; the reference text is their transcripts.tsv texts in the same
#   order. --audio FILE --text FILE benches other audio (16 kHz mono WAV is best: both engines
#   decode it themselves; the duration for the RTF is read from it, so it must be a WAV).
# * --mixed: instead, issue 19's kind of audio, >= 5 minutes: read passages of about a minute
#   (the 16 kHz clips back to back), short 8 kHz telephone prompts (../shared's Asterisk
#   prompts, else 16 kHz clips band-limited through 8 kHz) and 4 s of synthetic music between
#   sections, with 1.5 s of silence around them.
# * Decoding, both engines: language en, greedy at temperature 0 with the temperature fallback
#   (0.2, 0.4, ... 1.0, best_of 5; ytcaption's and whisper.cpp's default; faster-whisper
#   beam_size=1, best_of=5, its default temperature list), timestamps on. VAD: ytcaption gets
#   an empty --home, so it uses the bundled Silero model (its default; --ytcaption-args
#   "--vad-model energy" benches the energy detector); faster-whisper runs with vad_filter=False
#   unless --fw-vad says on (off,on runs both). --threads N
#   for both (ytcaption -t N, faster-whisper cpu_threads=N). Previous-text conditioning:
#   faster-whisper's default is on, ytcaption's off; --fw-condition on,off runs faster-whisper
#   both ways (default: on), --ytcaption-args --condition-on-previous-text turns it on here.
# * faster-whisper runs with compute_type int8 (the usual CPU choice) and float32 by default.
# * --ytcaption-args "FLAGS" adds flags to every ytcaption run (e.g. the parallel chunking
#   options of `ytcaption transcribe --help`); give it several times to bench several
#   configurations side by side.
# * ytcaption is built (cargo build --release -p ytcaption-cli) and a copy of the binary is run;
#   --no-build runs <target>/release/ytcaption as it is, --ytcaption BIN another binary.
# * Each engine runs --warmup times untimed, then --runs times (default 3), interleaved, under
#   /usr/bin/time -v (Debian package `time`): wall time (the whole process, model load
#   included), peak RSS and CPU use; the table shows medians and the WER of each against the
#   reference text (normalized as ytcaption::eval::normalize does).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
orig=$PWD
abspath() { case "$1" in /*|"") echo "$1" ;; *) echo "$orig/$1" ;; esac; }

threads=2 runs=3 warmup=1 model=tiny.en ct2_dir="" audio="" text="" fw_compute=int8,float32
fw_condition=on fw_vad=off mixed=""
build=1 bin=""
yc_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --ct2-dir) ct2_dir=$(abspath "$2"); shift 2 ;;
    --audio) audio=$(abspath "$2"); shift 2 ;;
    --text) text=$(abspath "$2"); shift 2 ;;
    --fw-compute) fw_compute=$2; shift 2 ;;
    --fw-condition) fw_condition=$2; shift 2 ;;
    --fw-vad) fw_vad=$2; shift 2 ;;
    --ytcaption-args) yc_args+=(--ytcaption-args "$2"); shift 2 ;;
    --mixed) mixed=--mixed; shift ;;
    --no-build) build=0; shift ;;
    --ytcaption) bin=$(abspath "$2"); build=0; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_faster_whisper.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if { [ -n "$audio" ] && [ -z "$text" ]; } || { [ -z "$audio" ] && [ -n "$text" ]; }; then
  echo "compare_faster_whisper.sh: --audio and --text go together" >&2; exit 2
fi
cd "$root"
if [ ! -x /usr/bin/time ]; then
  echo "compare_faster_whisper.sh: /usr/bin/time is missing: apt-get install time" >&2; exit 1
fi

target=${CARGO_TARGET_DIR:-$root/target}
. benches/lib.sh

# ytcaption
snap=$(mktemp -d)
trap 'rm -rf "$snap"' EXIT
bin=$(bench_binary "$build" "$bin" "$snap")
# ytcaption runs with an empty home of its own (the same everywhere: the bundled Silero model
# goes into it; a user's home could hold another VAD model or settings).
mkdir "$snap/home"
# faster-whisper
bench_venv

# weights
bench_models "$bin" "$model" "$ct2_dir"

# audio
if [ -z "$audio" ]; then
  audio=$target/bench-audio/en_concat${mixed:+_mixed}.wav
  text=$target/bench-audio/en_concat${mixed:+_mixed}.txt
  mkdir -p "$(dirname "$audio")"
  dirs=("$root/fixtures/audio")
  [ -d "$root/../shared/fixtures/audio" ] && dirs+=("$root/../shared/fixtures/audio")
  "$py" benches/compare_faster_whisper.py clip --out "$audio" --text "$text" \
    --min-seconds 300 --gap 1.5 $mixed "${dirs[@]}"
fi

say "running (the machine's other load makes these numbers noisy; compare within one run)"
"$py" benches/compare_faster_whisper.py bench --audio "$audio" --text "$text" \
  --ct2-dir "$ct2_dir" --ytcaption "$bin" --ytcaption-home "$snap/home" --f16 "$f16" --q8 "$q8" \
  --threads "$threads" --runs "$runs" --warmup "$warmup" --fw-compute "$fw_compute" \
  --fw-condition "$fw_condition" --fw-vad "$fw_vad" \
  ${yc_args[@]+"${yc_args[@]}"}
