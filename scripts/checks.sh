#!/usr/bin/env bash
# Checks besides the tests, run by scripts/test.sh (or on their own: scripts/checks.sh):
#
#  1. rustdoc: the workspace's documentation builds without a warning (broken intra-doc links,
#     unclosed HTML tags, ...).
#  2. MSRV (`rust-version` in /Cargo.toml). Only one toolchain is installed and CI cannot fetch
#     another, so the workspace is never built with the declared minimum itself. What runs offline:
#     - clippy's `incompatible_msrv` (denied in [workspace.lints.clippy]; scripts/test.sh's clippy
#       step) rejects standard library items stabilized after rust-version;
#     - here: no dependency in Cargo.lock (for this platform) declares a rust-version above ours,
#       which cargo would refuse on the older compiler.
#     Not covered: language features and syntax newer than rust-version (clippy checks library
#     items only), and compiler bugs fixed since. A CI job on the real MSRV toolchain would be
#     needed for those.
#  3. cargo-deny (deny.toml): licences, bans (duplicates, wildcards), sources. Its advisories
#     check is NOT run: it needs the RustSec database, a git clone from GitHub, which this
#     machine and CI cannot reach (see deny.toml). cargo-deny is built from crates.io into
#     <target>/tools the first time (a minute or two), then reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
start=$(date +%s)
step() { echo "== checks: $* ($(( $(date +%s) - start )) s)" >&2; }

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --workspace --locked

step "MSRV: no locked dependency needs a newer Rust than rust-version"
host=$(rustc -vV | sed -n 's/^host: //p')
cargo metadata --format-version 1 --locked --filter-platform "$host" | python3 -c '
import json, sys
meta = json.load(sys.stdin)
def ver(v): return tuple(int(x) for x in (v.split(".") + ["0", "0"])[:3])
ours = {p["name"]: p["rust_version"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
msrv = ours["ytcaption"]
bad = ["%s %s needs Rust %s" % (p["name"], p["version"], p["rust_version"])
       for p in meta["packages"] if p.get("rust_version") and ver(p["rust_version"]) > ver(msrv)]
if bad:
    sys.exit(f"rust-version is {msrv} in /Cargo.toml, but:\n  " + "\n  ".join(sorted(bad)))
print(f"rust-version {msrv}: every locked dependency builds with it (as far as they declare)")
'

step "cargo-deny: licences, bans, sources (advisories: not offline, see deny.toml)"
deny_version=0.20.2
tools=$target/tools
if [ "$("$tools/bin/cargo-deny" --version 2>/dev/null)" != "cargo-deny $deny_version" ]; then
  # Its release profile asks for fat LTO in one codegen unit (236 s of CPU, most of it on one
  # core); a tool that reads a lock file needs none of it: 164 s of CPU on both cores.
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --locked --quiet cargo-deny --version "$deny_version" --root "$tools" \
    --target-dir "$tools/build"
  rm -rf "$tools/build"
fi
# advisories is left out: it fails at once without the database (no GitHub here), also with
# --offline. Duplicate versions are warnings (see deny.toml); errors fail the run.
PATH="$tools/bin:$PATH" cargo deny --locked check --hide-inclusion-graph licenses bans sources

step "done"
