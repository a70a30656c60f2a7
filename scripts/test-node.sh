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
export YTCAPTION_TEST_MODEL=$(realpath "$YTCAPTION_TEST_MODEL")  # the example runs in examples/node

# One place to bump: the workspace's version in /Cargo.toml. package.json (and its lock file)
# must say the same; index.js embeds it, which the typings check below catches.
version=$(cargo pkgid --offline -p ytcaption | sed 's/.*[#@]//')
for f in package.json package-lock.json; do
  v=$(node -p "const p = require('./bindings/node/$f'); p.packages ? p.packages[''].version : p.version")
  if [ "$v" != "$version" ]; then
    echo "bindings/node/$f says $v, the workspace (Cargo.toml) $version: in bindings/node run" >&2
    echo "  npm version --no-git-tag-version $version && npm run build" >&2
    exit 1
  fi
done

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

step "examples/node/transcribe.mjs (one-shot SRT on stdout, a job's events on stderr)"
cd ../../examples/node
# Links ../../bindings/node as the user's `npm install` does; its install script (the cargo
# build) is skipped: the addon was just built.
npm install --ignore-scripts --no-audit --no-fund --no-package-lock --loglevel=error
ex=$(mktemp -d "${TMPDIR:-/tmp}/ytcaption-node-example.XXXXXX")
node transcribe.mjs "$YTCAPTION_TEST_MODEL" ../../fixtures/audio/en_jfk.wav \
  > "$ex/out.srt" 2> "$ex/err.log" || { cat "$ex/err.log" >&2; exit 1; }
grep -q -- "-->" "$ex/out.srt" && grep -qi "ask not" "$ex/out.srt" \
  && grep -q "event: job_created" "$ex/err.log" && grep -q ": completed$" "$ex/err.log" \
  && grep -qi "job text: .*ask not" "$ex/err.log" \
  || { echo "unexpected output of the Node example:" >&2; cat "$ex/out.srt" "$ex/err.log" >&2; exit 1; }
rm -rf "$ex"

step "done"
