#!/usr/bin/env bash
# Installs what building and testing ytcaption needs on Debian/Ubuntu: a C/C++ toolchain, cmake
# and libclang (whisper.cpp through whisper-rs), pkg-config, ffmpeg/sox/espeak-ng (tests),
# python3 + pip + venv (model import fallback, Python binding), and Rust when it is missing.
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(build-essential cmake clang libclang-dev pkg-config ffmpeg sox espeak-ng python3 python3-pip python3-venv unzip curl ca-certificates)
packages+=(time)  # /usr/bin/time -v for benches/
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3/pip may come from pyenv rather than Debian: accept a working interpreter.
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3}"); missing=("${missing[@]/python3-pip}"); missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  echo "installing Rust (rustup)" >&2
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
