#!/usr/bin/env bash
# Builds the Node.js binding (bindings/node, napi-rs) against the workspace's shared target dir and
# runs its tests: the generated typings are up to date, `tsc --noEmit` on test/types.ts, and the
# node:test suite on the real tiny.en model and real speech (which also packs and installs the
# package into fresh projects).
#
# Assumes scripts/test.sh ran first (system packages, the release build, the test model) and a
# Node.js >= 20.17 with npm (the package itself runs on Node >= 18; the dev tools need 20.17).
# Dev dependencies come from the npm registry into bindings/node/node_modules (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
start=$(date +%s)
step() { echo "== node: $* ($(( $(date +%s) - start )) s)" >&2; }

if ! command -v node >/dev/null || ! node -e '
  const [a, b] = process.versions.node.split(".").map(Number)
  process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1)'; then
  echo "scripts/test-node.sh needs Node.js >= 20.17 and npm (found: $(node -v 2>/dev/null || echo none))" >&2
  exit 1
fi

target="${CARGO_TARGET_DIR:-$PWD/target}"
export YTCAPTION_TEST_MODEL="${YTCAPTION_TEST_MODEL:-$target/test-data/models/ggml-tiny.en.bin}"
if [ ! -s "$YTCAPTION_TEST_MODEL" ]; then
  echo "no test model at $YTCAPTION_TEST_MODEL: run scripts/test.sh first (it imports one)" >&2
  exit 1
fi

cd bindings/node
step "npm ci"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

step "build the addon, regenerate index.js and index.d.ts"
saved=$(mktemp -d)
trap 'rm -rf "$saved"' EXIT
cp index.js index.d.ts "$saved/"
npm run --silent build
for f in index.js index.d.ts; do
  if ! cmp -s "$saved/$f" "$f"; then
    diff -u "$saved/$f" "$f" | head -40 >&2 || true
    echo "bindings/node/$f is not what the #[napi] items generate: run \`npm run build\` there and commit it" >&2
    exit 1
  fi
done

step "tsc + node:test"
npm test

step "done"
