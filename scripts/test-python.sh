#!/usr/bin/env bash
# Tests the Python binding (bindings/python): installs it from source with pip (maturin is
# the PEP 517 backend) into a venv under target/, runs its pytest suite on the real model and
# real speech and the example (the release wheel is scripts/release.sh's and
# scripts/test-release.sh's). Assumes scripts/test.sh ran first (system packages, the release
# build, the test model in target/test-data/ or $YTCAPTION_TEST_MODEL). Needs PyPI for maturin,
# pytest, mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
start=$(date +%s)
step() { echo "== python: $* ($(( $(date +%s) - start )) s)" >&2; }

root=$PWD
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$root/$target ;; esac
export YTCAPTION_TEST_MODEL=${YTCAPTION_TEST_MODEL:-$root/target/test-data/models/ggml-tiny.en.bin}
export YTCAPTION_BIN=$target/release/ytcaption
venv=$root/target/python-venv
pip_quiet=(-q --disable-pip-version-check)

step "CLI (the reference for the WER comparison)"
cargo build --release --locked -p ytcaption-cli

step "venv + pip install ./bindings/python"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install "${pip_quiet[@]}" "pytest>=8,<10" "mypy>=1.18,<3"
"$venv/bin/pip" install "${pip_quiet[@]}" --force-reinstall --no-deps ./bindings/python

# One place to bump: the workspace's version in /Cargo.toml. (A pre-release's PEP 440 spelling,
# 0.2.0a1 for 0.2.0-alpha.1, would differ here: compare the normalized form then.)
step "package version = the workspace's (pyproject.toml takes it from Cargo.toml: dynamic)"
version=$(cargo pkgid --offline -p ytcaption | sed 's/.*[#@]//')
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ytcaption"))')
if [ "$installed" != "$version" ]; then
  echo "the installed Python package is $installed, the workspace (Cargo.toml) is $version" >&2
  exit 1
fi

step "pytest"
(cd bindings/python && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests)

step "examples/python/transcribe.py (one-shot SRT on stdout, a job's events on stderr)"
ex=$(mktemp -d "${TMPDIR:-/tmp}/ytcaption-py-example.XXXXXX")
"$venv/bin/python" examples/python/transcribe.py "$YTCAPTION_TEST_MODEL" fixtures/audio/en_jfk.wav \
  > "$ex/out.srt" 2> "$ex/err.log" || { cat "$ex/err.log" >&2; exit 1; }
grep -q -- "-->" "$ex/out.srt" && grep -qi "ask not" "$ex/out.srt" \
  && grep -q "event: job_created" "$ex/err.log" && grep -q ": completed$" "$ex/err.log" \
  && grep -qi "job text: .*ask not" "$ex/err.log" \
  || { echo "unexpected output of the Python example:" >&2; cat "$ex/out.srt" "$ex/err.log" >&2; exit 1; }
rm -rf "$ex"

# The wheel (abi3, manylinux, the x86-64 levels) is built by scripts/release.sh and installed into
# a fresh venv outside the checkout by scripts/test-release.sh.
step "done"
