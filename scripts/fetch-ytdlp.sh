#!/usr/bin/env bash
# Installs yt-dlp (Unlicense, from PyPI, pinned and checked by SHA-256) into a virtualenv and prints
# the path of its `yt-dlp` program. Debian's yt-dlp package is too old for YouTube today.
#   scripts/fetch-ytdlp.sh [VENV]      (default: target/yt-dlp-venv)
# Point ytcaption at it with `--yt-dlp PATH` or YTCAPTION_YT_DLP=PATH, or put it on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2026.10.26
sha=a05c5b5d8562f7e8a62f5334348b406af4930d56d3a65f8021d14af0e22339ae
venv=${1:-$PWD/target/yt-dlp-venv}
bin="$venv/bin/yt-dlp"
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$version" ]; then echo "$bin"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "yt-dlp==$version" >&2
wheel=$(ls "$tmp"/yt_dlp-"$version"-*.whl)
got=$(sha256sum "$wheel" | cut -d' ' -f1)
[ "$got" = "$sha" ] || { echo "fetch-ytdlp.sh: sha256 $got, expected $sha" >&2; exit 1; }
rm -rf "$venv"
python3 -m venv "$venv" >&2
# yt-dlp's own dependencies are optional; the pinned wheel alone handles YouTube and direct links.
"$venv/bin/python" -m pip install --quiet --no-deps "$wheel" >&2
[ "$("$bin" --version)" = "$version" ] || { echo "fetch-ytdlp.sh: $bin does not run" >&2; exit 1; }
echo "$bin"
