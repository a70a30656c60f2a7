#!/usr/bin/env bash
# Installs playwright-core (the version pinned, with its hash, by cli/tests/web/package-lock.json)
# into DEST and prints DEST: the web page's browser test (cli/tests/it/web.rs) drives Debian's
# chromium with it. Uses the project's Node.js (target/node-env/bin when install-deps.sh put one
# there). No browser is downloaded: the test launches /usr/bin/chromium.
#   scripts/fetch-playwright.sh [DEST]      (default: target/test-data/playwright)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-$PWD/target/test-data/playwright}
if [ -x target/node-env/bin/node ]; then export PATH="$PWD/target/node-env/bin:$PATH"; fi
command -v npm >/dev/null || { echo "fetch-playwright.sh: no npm: run scripts/install-deps.sh" >&2; exit 1; }
src=cli/tests/web
want=$(node -p "require('./$src/package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('$dest/node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$have" = "$want" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  echo "$dest"; exit 0
fi
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
# --ignore-scripts: nothing runs at install time (and playwright-core fetches no browser).
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
echo "$dest"
