#!/usr/bin/env bash
# Runs one fuzz target for SECONDS on one core (one process, no -jobs), then minimizes its corpus.
#
#   scripts/fuzz.sh TARGET [SECONDS]     (default 600)
#   scripts/fuzz.sh --list
#
# Targets: audio_decode url_route captions journal_record ggml_reader ct2_reader
# (fuzz/fuzz_targets/).
# Needs the nightly toolchain and cargo-fuzz (`cargo +nightly install cargo-fuzz --locked`).
# New inputs land in fuzz/corpus/TARGET (committed, and replayed on stable by
# `cargo test -p ytcaption --test integration fuzz_corpus::`); crashes in fuzz/artifacts/TARGET (ignored by
# git: copy a fixed one into fuzz/corpus/TARGET so the replay keeps it fixed).
# Environment: FUZZ_NICE (default 10), FUZZ_RSS_MB (default 2048), FUZZ_MAX_LEN (per target),
# FUZZ_KEEP_BYTES (default 4096, captions and journal_record 2048, url_route 512: larger
# inputs are not kept).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--list" ]]; then
    cargo +nightly fuzz list
    exit 0
fi
target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}"
seconds="${2:-600}"
case "$target" in
    audio_decode | ggml_reader | ct2_reader) max_len="${FUZZ_MAX_LEN:-65536}" ;;
    captions) max_len="${FUZZ_MAX_LEN:-32768}" keep=2048 ;;
    journal_record) max_len="${FUZZ_MAX_LEN:-8192}" keep=2048 ;;
    url_route) max_len="${FUZZ_MAX_LEN:-8192}" keep=512 ;;
    *) max_len="${FUZZ_MAX_LEN:-8192}" ;;
esac
keep="${FUZZ_KEEP_BYTES:-${keep:-4096}}"
corpus="fuzz/corpus/$target"
mkdir -p "$corpus" "fuzz/artifacts/$target"

before=$(find "$corpus" -type f | wc -l)
status=0
nice -n "${FUZZ_NICE:-10}" cargo +nightly fuzz run "$target" "$corpus" -- \
    -max_total_time="$seconds" -timeout=20 \
    -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -max_len="$max_len" -print_final_stats=1 ||
    status=$?
# Keep the corpus small: only the inputs that add coverage, none over FUZZ_KEEP_BYTES (the
# committed corpora stay under 4 MB and replay in about a second). Fixed crash inputs
# (crash-*, copied in by hand) are kept whatever their coverage, so the replay keeps them fixed.
crashes=$(mktemp -d)
find "$corpus" -maxdepth 1 -type f -name 'crash-*' -exec cp {} "$crashes"/ \;
nice -n "${FUZZ_NICE:-10}" cargo +nightly fuzz cmin "$target" "$corpus" -- -rss_limit_mb="${FUZZ_RSS_MB:-2048}" >/dev/null 2>&1 || true
find "$corpus" -type f -size +"${keep}"c -delete
cp "$crashes"/. "$corpus"/ -r
rm -rf "$crashes"
after=$(find "$corpus" -type f | wc -l)
echo "fuzz.sh: $target ran ${seconds}s; corpus $before -> $after files ($(du -sh "$corpus" | cut -f1)); exit $status"
exit "$status"
