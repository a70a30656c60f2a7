#!/usr/bin/env bash
# Builds libytcaption (release) and installs it for C and C++ programs:
#
#   bindings/c/install.sh PREFIX
#
#   PREFIX/include/ytcaption.h
#   PREFIX/lib/libytcaption.so, PREFIX/lib/libytcaption.a
#   PREFIX/lib/pkgconfig/ytcaption.pc         (links the shared library)
#   PREFIX/lib/pkgconfig/ytcaption-static.pc  (links the static library and what it needs)
#
# Then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc app.c $(pkg-config --cflags --libs ytcaption)
# The .pc files name their prefix relative to themselves (${pcfiledir}), so PREFIX can move.
# Honours CARGO_TARGET_DIR (default: target/ in the repository). With YTCAPTION_PREBUILT_LIB_DIR
# set, installs the libraries found there instead of building (scripts/release.sh's C tarball).
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
libs=${YTCAPTION_PREBUILT_LIB_DIR:-}
if [ -z "$libs" ]; then
  cargo build --release --locked -p ytcaption-c
  libs=${CARGO_TARGET_DIR:-$PWD/target}/release
fi
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 0644 bindings/c/include/ytcaption.h "$prefix/include/"
install -m 0755 "$libs/libytcaption.so" "$prefix/lib/"
install -m 0644 "$libs/libytcaption.a" "$prefix/lib/"

# What the static library needs besides itself on Linux: whisper.cpp's C++ runtime and Rust's
# std (rustc --print native-static-libs).
native_libs="-lstdc++ -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
pc() {
  cat <<EOF
prefix=\${pcfiledir}/../..
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: $1
Description: Timestamped transcripts (SRT, WebVTT, JSON, TXT) from media files with whisper.cpp: C API
URL: https://github.com/ytcaption/ytcaption
Version: $version
Cflags: -I\${includedir}
EOF
}
{ pc ytcaption; echo "Libs: -L\${libdir} -lytcaption"; echo "Libs.private: $native_libs"; } \
  > "$prefix/lib/pkgconfig/ytcaption.pc"
{ pc ytcaption-static; echo "Libs: \${libdir}/libytcaption.a $native_libs"; } \
  > "$prefix/lib/pkgconfig/ytcaption-static.pc"
echo "installed libytcaption $version into $prefix" >&2
