#!/usr/bin/env bash
# Speed of the portable release build against a native one (issue 20: target >= 0.95).
#
#   benches/portable.sh [--runs 5] [--model PATH] [--audio WAV] [--levels "v4vnni v4"]
#
# Native: bindings/python built from source on this machine (-march=native whisper.cpp), the
# venv scripts/test-python.sh makes (target/python-venv). Portable: the wheel scripts/release.sh
# put in target/dist/, installed into target/bench-portable-venv, each level forced with
# YTCAPTION_CPU (the levels this CPU cannot run are skipped). Each run is a fresh Python process
# that times one `ytcaption.transcribe` (language en, default threads: the cores this process
# may use), runs interleaved; prints each configuration's median and native/portable (the
# portable build's speed as a fraction of native: >= 1 means as fast).
#
# Audio: the benchmark clip of benches/compare_faster_whisper.sh (target/bench-audio/en_concat.wav,
# made by that script) unless --audio; model: tiny.en q8_0 from target/bench-models (ditto).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source "$root/scripts/ggml-levels.sh"
target=$root/target
runs=5
model=$target/bench-models/ggml-tiny.en-q8_0.bin
audio=$target/bench-audio/en_concat.wav
levels="v4vnni v4"
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --audio) audio=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for f in "$model" "$audio"; do
  [ -s "$f" ] || { echo "missing $f: run benches/compare_faster_whisper.sh once (it makes both)" >&2; exit 1; }
done
native=$target/python-venv/bin/python
[ -x "$native" ] || { echo "no $native: run scripts/test-python.sh (it builds the native module)" >&2; exit 1; }
wheel=$(ls "$target"/dist/ytcaption-*-cp39-abi3-manylinux_*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || { echo "no wheel in $target/dist: run scripts/release.sh" >&2; exit 1; }
venv=$target/bench-portable-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"

configs=(native)
for l in $levels; do
  if cpu_has_level "$l"; then configs+=("$l"); else echo "== skipping $l: this CPU cannot run it" >&2; fi
done

one='
import sys, time, ytcaption
t0 = time.perf_counter()
t = ytcaption.transcribe(sys.argv[1], model=sys.argv[2], language="en")
print(f"{time.perf_counter() - t0:.3f} {ytcaption._cpu.loaded} {len(t.text.split())}")
'
out=$(mktemp -d "${TMPDIR:-/tmp}/ytcaption-portable.XXXXXX")
trap 'rm -rf "$out"' EXIT
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores; $runs runs" >&2
echo "== audio $audio, model $model" >&2
for r in $(seq 1 "$runs"); do
  for c in "${configs[@]}"; do
    if [ "$c" = native ]; then
      res=$(cd "$out" && "$native" -c "$one" "$audio" "$model")
    else
      res=$(cd "$out" && YTCAPTION_CPU=$c "$venv/bin/python" -c "$one" "$audio" "$model")
    fi
    echo "run $r $c: $res" >&2
    echo "${res%% *}" >> "$out/$c"
  done
done
median() { sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
base=$(median "$out/native")
printf '%-8s %10s %18s\n' build "median s" "native/this" 
for c in "${configs[@]}"; do
  m=$(median "$out/$c")
  printf '%-8s %10s %18s\n' "$c" "$m" "$(awk -v a="$base" -v b="$m" 'BEGIN {printf "%.3f", a / b}')"
done
