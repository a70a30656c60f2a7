#!/usr/bin/env bash
# Installs each artifact of scripts/release.sh (target/dist/) into a place that cannot see the
# checkout and transcribes a fixture with the test model:
#
#   wheel   a fresh venv in a temp dir; the module for this CPU's level loads (and v2/v3/v4 by
#           hand give the same text); `auditwheel show` reports a manylinux tag
#   sdist   a fresh venv: pip builds it from source (maturin) and it works
#   npm     `npm install ./ytcaption-X.tgz` into a fresh project with a `cargo` on PATH that
#           fails: the prebuilt addon is used, cargo never runs; the CPU's level is loaded
#   C       the tarball unpacked into a prefix, the C example built with pkg-config (shared and
#           static); glibc picks the hwcaps copy for this CPU
#   crate   a new cargo project depending on the packaged .crate through [patch]
#
# The v2 builds (the C example, a Python one-liner) also run under `qemu-x86_64 -cpu Nehalem`
# (Debian's qemu-user): an instruction the oldest supported CPU lacks would end them with SIGILL.
# Every transcript must equal the CLI's (this checkout's native build) on the same clip.
#
# Run scripts/test.sh first (system packages, the CLI, the test model), then scripts/release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
root=$PWD
source "$root/scripts/ggml-levels.sh"
start=$(date +%s)
step() { echo "== release test: $* ($(( $(date +%s) - start )) s)" >&2; }
fail() { echo "release test: $*" >&2; exit 1; }

dist=$root/target/dist
version=$(cargo pkgid --offline -p ytcaption | sed 's/.*[#@]//')
model=${YTCAPTION_TEST_MODEL:-$root/target/test-data/models/ggml-tiny.en.bin}
[ -s "$model" ] || fail "no test model at $model: run scripts/test.sh first"
command -v qemu-x86_64 >/dev/null || fail "qemu-x86_64 is missing: scripts/install-deps.sh installs qemu-user"
work=$(mktemp -d "${TMPDIR:-/tmp}/ytcaption-release.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# The clip and the model are copied: nothing below refers to the checkout.
cp fixtures/audio/en_jfk.wav "$work/clip.wav"
cp "$model" "$work/model.bin"
cd "$work"

# The level this CPU runs, as the packages decide it.
level=$(cpu_level)
echo "this CPU: x86-64-$level" >&2

step "reference: the CLI's text (native build of this checkout)"
cargo build --release --locked -p ytcaption-cli --manifest-path "$root/Cargo.toml"
"$root/target/release/ytcaption" transcribe clip.wav -m model.bin -t 1 -l en -F txt | tr -s ' \n' ' ' \
  | sed 's/^ //; s/ $//' > reference.txt
echo "   $(cat reference.txt)" >&2
same() {  # NAME FILE: FILE's text (spaces and newlines folded) equals the reference
  local got; got=$(tr -s ' \n' ' ' < "$2" | sed 's/^ //; s/ $//')
  [ "$got" = "$(cat reference.txt)" ] || fail "$1 gave a different text:
  $got
  reference: $(cat reference.txt)"
}

step "wheel: auditwheel, install into a fresh venv"
wheel=$(ls "$dist"/ytcaption-"$version"-cp39-abi3-manylinux_*.whl) || fail "no manylinux wheel in $dist"
"$root/target/dist-build/tools/bin/auditwheel" show "$wheel" > auditwheel.txt
tr -s ' \n' ' ' < auditwheel.txt | grep -q 'consistent with the following platform tag: "manylinux_' \
  || { cat auditwheel.txt >&2; fail "auditwheel shows no manylinux tag for $wheel"; }
python3 -m venv wheel-venv
wheel-venv/bin/pip install -q --disable-pip-version-check "$wheel"
cat > one.py <<'PY'
import sys, ytcaption
t = ytcaption.transcribe("clip.wav", model="model.bin", language="en", threads=1)
print(ytcaption._cpu.loaded, file=sys.stderr)
print(t.text)
PY
wheel-venv/bin/python -I one.py > py-auto.txt 2> py-auto.level
[ "$(cat py-auto.level)" = "$level" ] || fail "the wheel loaded $(cat py-auto.level) on an x86-64-$level CPU"
same "the wheel ($level)" py-auto.txt
for l in v2 v3 v4 v4vnni; do
  YTCAPTION_CPU=$l wheel-venv/bin/python -I one.py > "py-$l.txt" 2> "py-$l.level"
  [ "$(cat "py-$l.level")" = "$l" ] || fail "YTCAPTION_CPU=$l loaded $(cat "py-$l.level")"
  same "the wheel's $l module" "py-$l.txt"
  [ "$l" = "$level" ] && break  # the levels above this CPU's cannot run here
done

step "wheel under qemu-x86_64 -cpu Nehalem (v2: SSE4.2, no AVX), in the background"
# qemu-user shows the host's /proc/cpuinfo, so the level is named; glibc's choice (the C test
# below) reads the emulated CPU. The emulated runs take a minute or two each: they run beside
# the next steps and are checked at the end.
YTCAPTION_CPU=v2 qemu-x86_64 -cpu Nehalem wheel-venv/bin/python -I one.py > py-qemu.txt 2> py-qemu.level &
py_qemu=$!

step "sdist: pip builds it from source in a fresh venv"
python3 -m venv sdist-venv
# The workspace's target dir only caches the dependencies' builds; the source is the sdist's.
CARGO_TARGET_DIR=$root/target sdist-venv/bin/pip install -q --disable-pip-version-check \
  "$dist/ytcaption-$version.tar.gz"
sdist-venv/bin/python -I one.py > py-sdist.txt 2> py-sdist.level
[ "$(cat py-sdist.level)" = source ] || fail "the sdist's build loaded $(cat py-sdist.level)"
same "the sdist's build" py-sdist.txt

step "npm: install the tarball into a fresh project (cargo must not run)"
mkdir -p npm-app no-cargo
printf '#!/bin/sh\necho "cargo $*" >> %s/cargo-ran\nexit 1\n' "$work" > no-cargo/cargo
chmod +x no-cargo/cargo
echo '{"name": "app", "version": "1.0.0", "private": true}' > npm-app/package.json
(cd npm-app && PATH=$work/no-cargo:$PATH npm install --no-audit --no-fund --loglevel=error \
  "$dist/ytcaption-$version.tgz")
[ ! -e cargo-ran ] || fail "npm install ran cargo: $(cat cargo-ran)"
cat > npm-app/one.mjs <<'JS'
import * as fs from 'node:fs'
import * as yc from 'ytcaption'
const t = await yc.transcribe('../clip.wav', { model: '../model.bin', language: 'en', threads: 1 })
const addon = fs.readFileSync('/proc/self/maps', 'utf8').match(/ytcaption\.linux-x64-gnu(-v\d\w*)?\.node/)
console.error(addon ? (addon[1] || '-v2').slice(1) : 'none')
console.log(t.text)
JS
(cd npm-app && node one.mjs > ../node-auto.txt 2> ../node-auto.level)
[ "$(cat node-auto.level)" = "$level" ] || fail "the npm package loaded $(cat node-auto.level) on an x86-64-$level CPU"
same "the npm package ($level)" node-auto.txt
(cd npm-app && YTCAPTION_CPU=v2 node one.mjs > ../node-v2.txt 2> ../node-v2.level)
[ "$(cat node-v2.level)" = v2 ] || fail "YTCAPTION_CPU=v2 loaded $(cat node-v2.level)"
same "the npm package's v2 addon" node-v2.txt

step "C: the tarball in a prefix, the example built with pkg-config"
tar -xzf "$dist/ytcaption-$version-linux-x86_64.tar.gz"
prefix=$work/ytcaption-$version-linux-x86_64
cp "$root/examples/c/transcribe.c" .
# PKG_CONFIG_PATH only for pkg-config: aws-lc-sys's build script reruns when it changes, and
# the crate build below (and every later cargo build) would rebuild it and all above it.
pc() { PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config "$@"; }
cc -Wall -Werror -std=c11 transcribe.c -o transcribe $(pc --cflags --libs ytcaption) "-Wl,-rpath,$prefix/lib"
cc -Wall -Werror -std=c11 transcribe.c -o transcribe-static $(pc --cflags --libs ytcaption-static)
LD_DEBUG=libs ./transcribe -H home -m model.bin -t 1 -l en -f txt clip.wav > c-auto.txt 2> c-auto.log
# glibc's hwcaps directories stop at x86-64-v4 (the tarball has no v4vnni build).
case $level in v2) want="$prefix/lib/libytcaption.so" ;; *) want="$prefix/lib/glibc-hwcaps/x86-64-${level%vnni}/libytcaption.so" ;; esac
grep -q "calling init: $want" c-auto.log || { grep libytcaption c-auto.log >&2; fail "glibc did not load $want"; }
same "the C library ($level)" c-auto.txt
./transcribe-static -H home -m model.bin -t 1 -l en -f txt clip.wav > c-static.txt 2> c-static.log
same "the static C library" c-static.txt

step "C under qemu-x86_64 -cpu Nehalem (glibc must pick lib/libytcaption.so, v2), in the background"
LD_DEBUG=libs qemu-x86_64 -cpu Nehalem ./transcribe -H home-qemu -m model.bin -t 1 -l en -f txt clip.wav \
  > c-qemu.txt 2> c-qemu.log &
c_qemu=$!

step "crate: a new cargo project on the packaged .crate ([patch])"
mkdir -p crate-src crate-app/src
tar -C crate-src -xzf "$dist/ytcaption-$version.crate"
cat > crate-app/Cargo.toml <<EOF
[package]
name = "ytcaption-crate-check"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
ytcaption = "=$version"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[patch.crates-io]
ytcaption = { path = "../crate-src/ytcaption-$version" }

# The workspace's release profile, so its target dir's dependency builds are reused.
[profile.release]
debug = "line-tables-only"
EOF
cat > crate-app/src/main.rs <<'EOF'
use ytcaption::{Language, Pipeline, TranscribeOptions};

#[tokio::main]
async fn main() -> ytcaption::Result<()> {
    let pipeline = Pipeline::builder().home("home").model("../model.bin").threads(1).build().await?;
    let options = TranscribeOptions::with_language(Language::Code("en"));
    let t = pipeline.transcribe("../clip.wav", &options).await?;
    println!("{}", t.text);
    Ok(())
}
EOF
# The workspace's lock file pins the same dependency versions (cargo drops what is unused).
cp "$root/Cargo.lock" crate-app/
(cd crate-app && CARGO_TARGET_DIR=$root/target cargo build --release --quiet \
  && "$root/target/release/ytcaption-crate-check" > ../crate.txt)
same "the packaged crate" crate.txt

step "the runs under qemu-x86_64 -cpu Nehalem"
wait $py_qemu || { cat py-qemu.level >&2; fail "the wheel's v2 module failed under qemu -cpu Nehalem"; }
same "the wheel under qemu -cpu Nehalem" py-qemu.txt
wait $c_qemu || { tail -20 c-qemu.log >&2; fail "the C example failed under qemu -cpu Nehalem"; }
grep -q "calling init: $prefix/lib/libytcaption.so" c-qemu.log \
  || { grep libytcaption c-qemu.log >&2; fail "glibc did not load the v2 library under qemu"; }
same "the C library under qemu -cpu Nehalem" c-qemu.txt

step "done: every artifact installs and gives the CLI's text"
