#!/usr/bin/env bash
# Builds the release artifacts into target/dist/, one version for all (the workspace's):
#
#   ytcaption-VERSION-cp39-abi3-manylinux_*_x86_64.whl   Python wheel (abi3, manylinux tag)
#   ytcaption-VERSION.tar.gz                             Python sdist (builds with maturin)
#   ytcaption-VERSION.tgz                                npm package, prebuilt for linux-x64-gnu
#   ytcaption-VERSION-linux-x86_64.tar.gz                C library: .so/.a, header, pkg-config
#   ytcaption-VERSION.crate                              the Rust crate (cargo package)
#
#   scripts/release.sh [--levels "v2 v3 v4 v4vnni"]
#
# Portable CPU code: whisper.cpp's CPU backend is built once per x86-64 level (v2: SSE4.2, any
# x86-64 CPU of the last 15 years; v3: AVX2/FMA/F16C; v4: AVX-512; v4vnni: v4 with AVX-512 VNNI
# and VBMI, Python and Node only; see scripts/ggml-levels.sh), never for the build
# machine (-march=native), and the package picks the best level at load time: the wheel's
# __init__ (ytcaption/_cpu.py) and the npm package's entry (cpu.js) from /proc/cpuinfo, the C
# library through glibc's hwcaps directories (lib/glibc-hwcaps/x86-64-v3/, glibc >= 2.33; an
# older glibc loads lib/libytcaption.so, v2). The Rust code itself is built for the baseline.
# v2 is always built (the fallback); --levels "v2" alone gives smaller, slower packages.
#
# The levels build in the workspace's target dir beside the native build (the same dependency
# builds serve both): each level builds whisper-rs-sys (whisper.cpp) with its own GGML_* flags
# under a distinct profile setting for that crate alone (`--config
# profile.release.package.whisper-rs-sys.codegen-units=N`, N derived from the flags). Cargo
# hashes profile settings into a unit's identity, so each level gets its own whisper.cpp build
# and its own build of the crates above it, kept between runs; whisper-rs-sys's build script
# itself never notices a change of GGML_* variables. Only the final libraries are relinked when
# another level (or the native build) ran last. Stripped copies and tools (maturin, wheel,
# auditwheel from PyPI) go to target/dist-build. The system toolchain builds everything; the
# wheel's manylinux tag is the lowest that auditwheel finds its glibc symbol versions allow.
# scripts/test-release.sh installs each artifact outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
root=$PWD
# ggml_flags, level_config, level_build: the levels' GGML_* flags, their profile setting, the build.
source "$root/scripts/ggml-levels.sh"
levels="v2 v3 v4 v4vnni"
while [ $# -gt 0 ]; do
  case $1 in
    --levels) levels=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case " $levels " in *" v2 "*) ;; *) levels="v2 $levels" ;; esac
for l in $levels; do
  case $l in v2 | v3 | v4 | v4vnni) ;; *) echo "unknown level $l: v2, v3, v4 or v4vnni" >&2; exit 2 ;; esac
done
start=$(date +%s)
step() { echo "== release: $* ($(( $(date +%s) - start )) s)" >&2; }

dist=$root/target/dist
build=$root/target/dist-build
stage=$build/stage
version=$(cargo pkgid --offline -p ytcaption | sed 's/.*[#@]//')
rm -rf "$dist" "$stage"
mkdir -p "$dist" "$stage"

step "tools: maturin, wheel, auditwheel (PyPI)"
tools=$build/tools
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/pip" install -q --disable-pip-version-check "maturin>=1.9.4,<2" "wheel>=0.43" "auditwheel>=6"

for level in $levels; do
  flags=$(ggml_flags "$level")
  step "build $level ($flags)"
  mkdir -p "$stage/$level"
  # One package per invocation, as the test scripts build them: their dependencies' features
  # unify the same way, so the dependency builds are shared.
  # The C library has no v4vnni build: glibc's hwcaps directories stop at x86-64-v4.
  pkgs="ytcaption-c ytcaption-node ytcaption-python"
  [ "$level" = v4vnni ] && pkgs="ytcaption-node ytcaption-python"
  for pkg in $pkgs; do
    level_build "$level" "$pkg" > "$build/$level-$pkg.txt"
    # ggml's CMake names the instruction sets it compiled its CPU backend for: check them.
    used=$(grep -h "Adding CPU backend variant" "$(head -n 1 "$build/$level-$pkg.txt")/../output")
    case $level in
      v2) ! grep -q -- "-mavx" <<<"$used" ;;
      v3) grep -q -- "-mavx2" <<<"$used" && ! grep -q -- "-mavx512" <<<"$used" ;;
      v4) grep -q -- "-mavx512f" <<<"$used" && ! grep -q -- "-mavx512vnni" <<<"$used" ;;
      v4vnni) grep -q -- "-mavx512vnni" <<<"$used" && grep -q -- "-mavx512vbmi" <<<"$used" ;;
    esac || { echo "ggml was not built for $level: $used" >&2; exit 1; }
    for f in $(tail -n +2 "$build/$level-$pkg.txt"); do
      # The release profile keeps line tables (most of the file); the packages do without.
      cp "$f" "$stage/$level/" && strip --strip-debug "$stage/$level/$(basename "$f")"
    done
  done
  echo "   ${used#-- }" >&2
done

step "licences (ours, whisper.cpp, libopus, Silero VAD) and the Rust crates linked in"
lic=$stage/LICENSES
mkdir -p "$lic"
cp LICENSE-MIT LICENSE-APACHE "$lic/"
cp ytcaption/assets/LICENSE-silero-vad.md "$lic/LICENSE-silero-vad.md"
cargo metadata --format-version 1 --locked --offline > "$build/metadata.json"
"$tools/bin/python" - "$build/metadata.json" "$lic" <<'PY'
import json, os, shutil, sys
meta = json.load(open(sys.argv[1]))
out = sys.argv[2]
pkgs = {p["id"]: p for p in meta["packages"]}
src = {p["name"]: os.path.dirname(p["manifest_path"]) for p in meta["packages"]}
shutil.copy(os.path.join(src["whisper-rs-sys"], "whisper.cpp", "LICENSE"), os.path.join(out, "LICENSE-whisper.cpp"))
shutil.copy(os.path.join(src["opusic-sys"], "opus", "COPYING"), os.path.join(out, "COPYING-libopus"))
# Every crate the three libraries link (normal dependencies, transitively), with its licence.
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
roots = [p["id"] for p in meta["packages"] if p["name"] in ("ytcaption-c", "ytcaption-node", "ytcaption-python")]
seen, todo = set(), list(roots)
while todo:
    i = todo.pop()
    if i in seen:
        continue
    seen.add(i)
    for d in nodes[i]["deps"]:
        if any(k["kind"] is None for k in d["dep_kinds"]):
            todo.append(d["pkg"])
with open(os.path.join(out, "THIRD-PARTY.md"), "w") as f:
    f.write("# Rust crates linked into ytcaption's libraries\n\n")
    f.write("Their licence texts are in each crate's source (crates.io). The C/C++ code they bundle:\n")
    f.write("whisper.cpp and ggml (MIT, LICENSE-whisper.cpp), libopus (BSD, COPYING-libopus), and the\n")
    f.write("Silero VAD model (MIT, LICENSE-silero-vad.md).\n\n| crate | version | licence |\n|---|---|---|\n")
    for p in sorted((pkgs[i] for i in seen), key=lambda p: p["name"]):
        if p["source"] is not None:
            f.write(f"| {p['name']} | {p['version']} | {p['license'] or p.get('license_file') or '?'} |\n")
PY

step "Python wheel (maturin, abi3) with the v3/v4/v4vnni modules beside the v2 one"
# maturin builds (relinks) the v2 module with the v2 settings; the stripped copy replaces it.
(cd bindings/python && env $(ggml_flags v2) "$tools/bin/maturin" build --release --locked --quiet \
  --config "$(level_config v2)" --compatibility pypi -o "$stage/wheel")
wheel=$(ls "$stage"/wheel/ytcaption-"$version"-cp39-abi3-*.whl)
"$tools/bin/python" -m wheel unpack -d "$stage/wheel/unpacked" "$wheel"
pkgdir=$stage/wheel/unpacked/ytcaption-$version
cp "$stage/v2/lib_ytcaption.so" "$pkgdir"/ytcaption/_ytcaption.abi3.so
for level in v3 v4 v4vnni; do
  [ -f "$stage/$level/lib_ytcaption.so" ] && cp "$stage/$level/lib_ytcaption.so" "$pkgdir/ytcaption/_ytcaption_$level.abi3.so"
done
mkdir -p "$pkgdir/ytcaption-$version.dist-info/licenses"
cp "$lic"/* "$pkgdir/ytcaption-$version.dist-info/licenses/"
rm "$wheel"
"$tools/bin/python" -m wheel pack -d "$dist" "$pkgdir"
wheel=$(ls "$dist"/ytcaption-"$version"-cp39-abi3-*.whl)
"$tools/bin/auditwheel" show "$wheel" | tee "$build/auditwheel.txt" >&2
grep -q "manylinux_" "$build/auditwheel.txt" || { echo "auditwheel found no manylinux tag for $wheel" >&2; exit 1; }

step "Python sdist"
(cd bindings/python && "$tools/bin/maturin" sdist -o "$dist")

step "npm package (prebuilt linux-x64-gnu addons; cargo only where none matches)"
npm_stage=$stage/npm
mkdir -p "$npm_stage/LICENSES"
cp bindings/node/{package.json,README.md,index.js,index.d.ts,build.js,cpu.js} "$npm_stage/"
cp "$lic"/* "$npm_stage/LICENSES/"
cp "$stage/v2/libytcaption_node.so" "$npm_stage/ytcaption.linux-x64-gnu.node"
for level in v3 v4 v4vnni; do
  [ -f "$stage/$level/libytcaption_node.so" ] && cp "$stage/$level/libytcaption_node.so" "$npm_stage/ytcaption.linux-x64-gnu-$level.node"
done
(cd "$npm_stage" && npm pack --silent --pack-destination "$dist" >/dev/null)

step "C library tarball"
c_name=ytcaption-$version-linux-x86_64
c_stage=$stage/c/$c_name
YTCAPTION_PREBUILT_LIB_DIR=$stage/v2 bindings/c/install.sh "$c_stage"
for level in v3 v4; do
  if [ -f "$stage/$level/libytcaption.so" ]; then
    install -D -m 0755 "$stage/$level/libytcaption.so" "$c_stage/lib/glibc-hwcaps/x86-64-$level/libytcaption.so"
  fi
done
cp bindings/c/README.md "$c_stage/README.md"
cp -r "$lic" "$c_stage/LICENSES"
tar -C "$stage/c" -czf "$dist/$c_name.tar.gz" "$c_name"

step "Rust crate (cargo package; scripts/test-release.sh builds it in a new project)"
# (From the working tree as it is: a release is made from a clean checkout of its tag.)
[ -z "$(git status --porcelain 2>/dev/null)" ] || echo "   (the working tree has uncommitted changes)" >&2
cargo package -p ytcaption --locked --no-verify --quiet --allow-dirty --target-dir "$build"
cp "$build/package/ytcaption-$version.crate" "$dist/"

step "done: $dist"
ls -l "$dist" >&2
