#!/usr/bin/env bash
# The `openblas` cargo feature (whisper.cpp's large matrix products through OpenBLAS) against
# faster-whisper: builds the CLI with it, then runs compare_faster_whisper.sh with that binary.
#
#   benches/openblas.sh [--models "tiny.en base"] [COMPARE_FASTER_WHISPER_ARGS...]
#
# * Needs libopenblas-dev (scripts/install-deps.sh installs it): the build reads its
#   headers from BLAS_INCLUDE_DIRS (default: the pthread variant's, below) and links libopenblas.
# * The build goes into <target>/openblas, a target dir of its own: whisper-rs-sys's build
#   script does not notice a change of features, so the default build's whisper.cpp would be
#   reused. <target> is $CARGO_TARGET_DIR, else ./target. The first build takes a few minutes.
# * Every other argument goes to compare_faster_whisper.sh, once per model (e.g. --audio FILE
#   --text FILE --runs 3 --warmup 0 --fw-compute int8 --fw-vad off,on); its README numbers
#   (issue 19) come from the mixed set that way. Run benches/compare_faster_whisper.sh alone for
#   the default build in the same session: timings on a shared machine compare only within one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
# shellcheck source=benches/lib.sh
. "$root/benches/lib.sh"
models="tiny.en base"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
export BLAS_INCLUDE_DIRS=${BLAS_INCLUDE_DIRS:-/usr/include/x86_64-linux-gnu/openblas-pthread}
if [ ! -f "$BLAS_INCLUDE_DIRS/cblas.h" ]; then
  echo "openblas.sh: no cblas.h in $BLAS_INCLUDE_DIRS: install libopenblas-dev or set BLAS_INCLUDE_DIRS" >&2
  exit 2
fi
say "building ytcaption --features openblas into $target/openblas"
(cd "$root" && CARGO_TARGET_DIR=$target/openblas cargo build --release --locked --quiet \
  -p ytcaption-cli --features openblas)
bin=$target/openblas/release/ytcaption
ldd "$bin" | grep libopenblas >/dev/null || { echo "openblas.sh: $bin does not link OpenBLAS" >&2; exit 1; }
for m in $models; do
  "$root/benches/compare_faster_whisper.sh" --model "$m" --ytcaption "$bin" "${args[@]}"
done
