#!/usr/bin/env bash
# Tests the C ABI (bindings/c): the Rust-side tests (the committed header equals cbindgen's output,
# the status mapping), an install into a temporary prefix with pkg-config, the C test program,
# the C example (shared and static) and a C++ translation unit compiled with strict flags and run
# on real speech with the real model, then the C test again under valgrind.
#
# Run scripts/test.sh first: it installs the system packages, builds the release tree and imports
# the tiny.en test model (YTCAPTION_TEST_MODEL). Needs valgrind (Debian package `valgrind`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
target=$CARGO_TARGET_DIR
model=${YTCAPTION_TEST_MODEL:-$target/test-data/models/ggml-tiny.en.bin}
if [ ! -s "$model" ]; then
  echo "no test model at $model: run scripts/test.sh first, or set YTCAPTION_TEST_MODEL" >&2
  exit 1
fi
# whisper.cpp threads spin while waiting: never more than the cores.
threads=$(( $(nproc) < 2 ? 1 : 2 ))
start=$(date +%s)
step() { echo "== c: $* ($(( $(date +%s) - start )) s)" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ytcaption-c.XXXXXX")
trap 'rm -rf "$work"' EXIT

step "build, Rust-side tests (header = cbindgen output, status mapping)"
# One package per invocation, as scripts/test.sh and install.sh build them: building them together
# would unify their dependencies' features differently and rebuild both each time.
cargo build --release --locked -p ytcaption-cli
cargo build --release --locked -p ytcaption-c
# scripts/test.sh has run these in its `cargo test --workspace` already; on their own they are
# built with cbindgen's dependency features (serde_core's alloc, bitflags' std), which rebuilds
# serde, symphonia, reqwest, ytcaption and more (~90 s) to run the same 13 tests again.
if [ -z "${YTCAPTION_WORKSPACE_TESTS_RAN:-}" ]; then
  cargo test --release --locked -p ytcaption-c
else
  echo "(the Rust-side tests ran in scripts/test.sh's cargo test --workspace)" >&2
fi

step "install into a temporary prefix (headers, libraries, pkg-config)"
bindings/c/install.sh "$work/prefix"
# PKG_CONFIG_PATH only for pkg-config, never exported: aws-lc-sys's build script reruns when it
# changes, and the cargo build below (and the next run's) would rebuild it and all above it.
pc() { PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config "$@"; }
cflags=(-Wall -Wextra -Werror -std=c11)
shared=($(pc --cflags --libs ytcaption) "-Wl,-rpath,$work/prefix/lib")
static=($(pc --cflags --libs ytcaption-static))

step "compile: cc ${cflags[*]}, c++ -std=c++17 -Wall -Werror"
cc "${cflags[@]}" bindings/c/tests/test_ytcaption.c -o "$work/test_ytcaption" "${shared[@]}" -lpthread -lm
cc "${cflags[@]}" examples/c/transcribe.c -o "$work/transcribe" "${shared[@]}"
cc "${cflags[@]}" examples/c/transcribe.c -o "$work/transcribe-static" "${static[@]}"
c++ -std=c++17 -Wall -Werror bindings/c/tests/cxx_header.cpp -o "$work/cxx_header" "${shared[@]}"

step "run the C++ program and the example (shared: one-shot SRT; static: a durable job)"
"$work/cxx_header" "$work/home-cxx"
"$work/transcribe" -H "$work/home-example" -m "$model" -t "$threads" -l en fixtures/audio/en_jfk.wav \
  > "$work/example.srt" 2> "$work/example.log"
grep -q -- "-->" "$work/example.srt"
grep -q "fellow Americans" "$work/example.srt"
# (events still in flight when the example frees its pipeline are dropped: look for an early one)
grep -q "transcription_started" "$work/example.log"
"$work/transcribe-static" -H "$work/home-example" -m "$model" -t "$threads" -j -f txt \
  fixtures/audio/en_jfk.wav 2> "$work/example-job.log" | grep -q "fellow Americans"
grep -q "job_created" "$work/example-job.log"
grep -q "transcription_started" "$work/example-job.log"

step "run the C test (WER against the CLI's on the same clip)"
"$target/release/ytcaption" transcribe fixtures/audio/en_jfk.wav -m "$model" -t "$threads" -l en -F txt \
  > "$work/cli.txt"
mkdir "$work/run"
"$work/test_ytcaption" "$model" fixtures/audio "$work/run" "$work/cli.txt" "$threads"

# valgrind cannot execute AVX-512, which the default -march=native whisper.cpp build emits on CPUs
# that have it, and runs FMA instructions hundreds of times slower than plain ones: the library
# for valgrind is built for AVX and F16C without FMA (the `valgrind` level of
# scripts/ggml-levels.sh). It builds in the same target dir as everything else, under its own
# profile setting for whisper-rs-sys (level_config): only whisper.cpp and the crates above it
# build again, and they are kept for the next run. The library is copied away at once (the
# native build's file has the same name). YTCAPTION_VALGRIND_LIB_DIR names another library dir
# to use instead (e.g. target/dist-build/stage/v2 from scripts/release.sh: SSE4.2 only, and
# much slower under valgrind: past 6.5 min against about 3).
vg_lib=${YTCAPTION_VALGRIND_LIB_DIR:-}
if [ -z "$vg_lib" ]; then
  source scripts/ggml-levels.sh
  step "build the library for valgrind ($(ggml_flags valgrind | grep -o 'GGML_[A-Z0-9]*=ON' | tr '\n' ' '))"
  vg_lib=$work/valgrind-lib
  mkdir -p "$vg_lib"
  cp "$(level_build valgrind ytcaption-c | grep '/libytcaption\.so$')" "$vg_lib/"
fi
cc "${cflags[@]}" -g bindings/c/tests/test_ytcaption.c -o "$work/test_ytcaption-vg" \
  -Ibindings/c/include -L"$vg_lib" -lytcaption -lpthread -lm "-Wl,-rpath,$vg_lib"

step "run the C test under valgrind (1 whisper thread; the library in $vg_lib)"
mkdir "$work/run-vg"
# --fair-sched=yes: valgrind runs one thread at a time, and by default a thread that spins
# (ggml's thread pool, tokio's idle workers) can hold that lock for its whole time slice: the
# pipeline opened in 415 s without it and in 1.5 s with it (the whole run: 574 s -> 168 s).
valgrind --fair-sched=yes --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --suppressions=bindings/c/tests/valgrind.supp --num-callers=30 \
  "$work/test_ytcaption-vg" "$model" fixtures/audio "$work/run-vg" "$work/cli.txt" 1

step "done"
