#!/usr/bin/env bash
# Runs every test: system packages, rustdoc/MSRV/cargo-deny checks (scripts/checks.sh), the
# tiny.en test model (imported from PyPI's CTranslate2 package, which also exercises the
# importer), formatting, lints, all Rust test suites (the Rust example's among them) and the
# Python, Node.js and C bindings' suites with their examples (scripts/test-{python,node,c}.sh), and
# the release artifacts built and installed outside the checkout (scripts/{release,test-release}.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
# Node.js from install-deps.sh when the machine's is missing or too old.
if [ -x target/node-env/bin/node ]; then export PATH="$PWD/target/node-env/bin:$PATH"; fi
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)" >&2; }

step "build"
cargo build --release --locked -p ytcaption-cli
export YTCAPTION_BIN=target/release/ytcaption

step "docs, MSRV, licences and sources (scripts/checks.sh)"
scripts/checks.sh

step "test model"
export YTCAPTION_TEST_CT2_TINY_EN=$(scripts/fetch-ct2.sh tiny.en)
if [ ! -s target/test-data/models/ggml-tiny.en.bin ]; then
  mkdir -p target/test-data/models
  "$YTCAPTION_BIN" model import "$YTCAPTION_TEST_CT2_TINY_EN" --output target/test-data/models/ggml-tiny.en.bin
fi
export YTCAPTION_TEST_MODEL=$PWD/target/test-data/models/ggml-tiny.en.bin
# The multilingual base model (language detection) and the Silero VAD model (chunking).
export YTCAPTION_TEST_CT2_BASE=$(scripts/fetch-ct2.sh base)
if [ ! -s target/test-data/models/ggml-base.bin ]; then
  "$YTCAPTION_BIN" model import "$YTCAPTION_TEST_CT2_BASE" --output target/test-data/models/ggml-base.bin
fi
export YTCAPTION_TEST_MODEL_BASE=$PWD/target/test-data/models/ggml-base.bin
export YTCAPTION_TEST_VAD=$(scripts/fetch-vad.sh)

step "yt-dlp"
export YTCAPTION_YT_DLP=$(scripts/fetch-ytdlp.sh)

step "S3 test server (moto)"
scripts/setup-moto.sh >/dev/null
export YTCAPTION_TEST_MOTO_VENV=$PWD/target/test-data/moto-venv

step "OpenAI Python SDK (tests of serve's /v1 API)"
scripts/setup-openai.sh >/dev/null
export YTCAPTION_TEST_OPENAI_VENV=$PWD/target/test-data/openai-venv
step "schemathesis (serve's API property-tested against /openapi.json)"
scripts/setup-schemathesis.sh >/dev/null
export YTCAPTION_TEST_SCHEMATHESIS_VENV=$PWD/target/test-data/schemathesis-venv
step "deploy/ checks: kubernetes-validate, check-jsonschema (PyPI), Prometheus (Debian)"
export YTCAPTION_TEST_DEPLOY_VENV=$(scripts/setup-deploy-check.sh)
command -v prometheus >/dev/null && command -v promtool >/dev/null || { echo "prometheus/promtool are missing: scripts/install-deps.sh installs them" >&2; exit 1; }
step "browser test: playwright-core (scripts/fetch-playwright.sh; chromium is Debian's)"
export YTCAPTION_TEST_PLAYWRIGHT=$(scripts/fetch-playwright.sh)
step "PostgreSQL (the journal tests start their own server from it)"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null || { echo "PostgreSQL is missing: scripts/install-deps.sh installs it" >&2; exit 1; }

step "fmt + clippy"
cargo fmt --all -- --check
cargo clippy --release --locked --workspace --all-targets -- -D warnings

step "minimal core (no youtube, http, s3, sled)"
# clippy compiles it (check mode) with every lint; a library is not linked, so a separate
# `cargo build` of it would only add code generation (~3 min cold).
cargo clippy --release --locked -p ytcaption --no-default-features --features whisper --all-targets -- -D warnings

step "rust tests"
cargo test --release --locked --workspace --no-fail-fast -- --test-threads=1
# scripts/test-c.sh need not build and run the C binding's Rust-side tests again.
export YTCAPTION_WORKSPACE_TESTS_RAN=1

# The bindings build into the same target dir, so whisper.cpp compiles once for all of them.
step "python binding"
scripts/test-python.sh
step "node binding"
scripts/test-node.sh
# The portable packages (x86-64 v2/v3/v4 builds of whisper.cpp, target/dist-build), installed
# outside the checkout.
step "release artifacts (scripts/release.sh) and their install tests (scripts/test-release.sh)"
scripts/release.sh
scripts/test-release.sh
step "c binding"
scripts/test-c.sh

step "done"
