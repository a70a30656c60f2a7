#!/usr/bin/env bash
# Audio clean-up, measured: WER of `ytcaption transcribe` on the English speech fixtures as
# they are, 20 dB quieter, and with white noise at 10 dB SNR (made with sox), without and with
# the clean-up decode options (--normalize-loudness, --highpass-hz, --noise-gate-db).
#
#   benches/cleanup_wer.sh [--model FILE] [--ytcaption BIN]
#
# * Clips: the English WAVs of fixtures/audio, plus ../shared/fixtures/audio's when present.
# * Model: --model, else $YTCAPTION_TEST_MODEL, else target/test-data/models/ggml-tiny.en.bin.
# * WER: words lower-cased, punctuation removed, over all clips together (errors / reference
#   words). Noise is seeded per clip (sox synth ... whitenoise is deterministic per run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${YTCAPTION_TEST_MODEL:-$root/target/test-data/models/ggml-tiny.en.bin}
bin=$root/target/release/ytcaption
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --ytcaption) bin=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
refs=$work/refs.tsv; : > "$refs"
for dir in "$root/fixtures/audio" "$root/../shared/fixtures/audio" /work/shared/fixtures/audio; do
  [ -f "$dir/transcripts.tsv" ] || continue
  tail -n +2 "$dir/transcripts.tsv" | while IFS=$'\t' read -r file lang text _; do
    [ "$lang" = en ] || continue
    case "$file" in *.wav) ;; *) continue ;; esac
    grep -q "^$file"$'\t' "$refs" && continue
    sox "$dir/$file" -r 16000 -c 1 -b 16 "$work/clean_$file"
    printf '%s\t%s\n' "$file" "$text" >> "$refs"
  done
done
while IFS=$'\t' read -r file _; do
  sox "$work/clean_$file" "$work/quiet_$file" vol -20dB
  # White noise 10 dB below the clip's RMS level.
  rms=$(sox "$work/clean_$file" -n stat 2>&1 | awk '/RMS     amplitude/ {print $3}')
  len=$(soxi -D "$work/clean_$file")
  amp=$(python3 -c "print($rms * 10 ** (-10 / 20) * 3 ** 0.5)")  # uniform noise: rms = amp/sqrt(3)
  sox -n -r 16000 -c 1 -b 16 "$work/noise_$file" synth "$len" whitenoise vol "$amp"
  sox -m -v 1 "$work/clean_$file" -v 1 "$work/noise_$file" "$work/noisy_$file"
done < "$refs"

configs=("none|" "normalize -23|--normalize-loudness -23" "normalize -23, high-pass 80 Hz|--normalize-loudness -23 --highpass-hz 80" "normalize -23, high-pass 80 Hz, gate -50 dBFS|--normalize-loudness -23 --highpass-hz 80 --noise-gate-db -50")
wer() {  # reference hypothesis → "errors words"
  python3 - "$1" "$2" <<'PY'
import re, sys
norm = lambda s: re.sub(r"[^a-z0-9' ]", " ", s.lower().replace("-", " ")).split()
r, h = norm(sys.argv[1]), norm(sys.argv[2])
d = list(range(len(h) + 1))
for i in range(1, len(r) + 1):
    prev, d[0] = d[0], i
    for j in range(1, len(h) + 1):
        prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
print(d[len(h)], len(r))
PY
}
echo "| variant | clean-up | WER | errors / words |"
echo "|---|---|---|---|"
for variant in clean quiet noisy; do
  for c in "${configs[@]}"; do
    name=${c%%|*}; flags=${c#*|}
    errs=0 words=0
    while IFS=$'\t' read -r file text; do
      # shellcheck disable=SC2086
      hyp=$("$bin" --home "$work/home" transcribe "$work/${variant}_$file" -m "$model" -l en -F txt $flags 2>/dev/null)
      read -r e w < <(wer "$text" "$hyp")
      errs=$((errs + e)); words=$((words + w))
    done < "$refs"
    printf '| %s | %s | %.3f | %d / %d |\n' "$variant" "$name" "$(python3 -c "print($errs / $words)")" "$errs" "$words"
  done
done
