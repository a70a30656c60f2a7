# x86-64 levels of whisper.cpp's CPU code, shared by the scripts that build or pick them
# (sourced: scripts/release.sh, scripts/test-release.sh, scripts/test-c.sh, benches/portable.sh).
# The packages' own pickers are ytcaption/_cpu.py (Python) and cpu.js (Node); they read the same
# /proc/cpuinfo flags as cpu_level below.

# ggml_flags LEVEL: the GGML_* variables (for `env`) that build ggml's CPU backend for LEVEL:
#   v2        SSE4.2 only (any x86-64 CPU of the last 15 years: the packages' fallback);
#   v3        + AVX, F16C, FMA, BMI2, AVX2;
#   v4        + AVX-512 F/CD/VL/DQ/BW;
#   v4vnni    + AVX-512 VNNI and VBMI (Ice Lake and Sapphire Rapids Xeons, AMD Zen 4 and later):
#             8-bit dot products in one instruction for quantized (q8_0, ...) models. The Python
#             and Node packages carry it; glibc's hwcaps directories have no such level, so the
#             C tarball does not;
#   valgrind  AVX and F16C without FMA/AVX2: valgrind cannot run AVX-512 and runs FMA hundreds
#             of times slower than plain instructions, and SSE4.2-only code ran past 6.5 min
#             where this one takes about 3 (scripts/test-c.sh).
# Every flag is set: with GGML_NATIVE=OFF ggml's defaults depend on the build host.
ggml_flags() {
  local off="GGML_AVX_VNNI=OFF GGML_AVX512_VBMI=OFF GGML_AVX512_VNNI=OFF GGML_AVX512_BF16=OFF"
  off+=" GGML_AMX_TILE=OFF GGML_AMX_INT8=OFF GGML_AMX_BF16=OFF"
  local base="GGML_NATIVE=OFF GGML_LLAMAFILE=ON GGML_SSE42=ON $off"
  case $1 in
    v2) echo "$base GGML_AVX=OFF GGML_F16C=OFF GGML_FMA=OFF GGML_BMI2=OFF GGML_AVX2=OFF GGML_AVX512=OFF" ;;
    v3) echo "$base GGML_AVX=ON GGML_F16C=ON GGML_FMA=ON GGML_BMI2=ON GGML_AVX2=ON GGML_AVX512=OFF" ;;
    v4) echo "$base GGML_AVX=ON GGML_F16C=ON GGML_FMA=ON GGML_BMI2=ON GGML_AVX2=ON GGML_AVX512=ON" ;;
    v4vnni) echo "$base GGML_AVX=ON GGML_F16C=ON GGML_FMA=ON GGML_BMI2=ON GGML_AVX2=ON GGML_AVX512=ON" \
      | sed 's/GGML_AVX512_VNNI=OFF/GGML_AVX512_VNNI=ON/; s/GGML_AVX512_VBMI=OFF/GGML_AVX512_VBMI=ON/' ;;
    valgrind) echo "$base GGML_AVX=ON GGML_F16C=ON GGML_FMA=OFF GGML_BMI2=ON GGML_AVX2=OFF GGML_AVX512=OFF" ;;
    *) echo "unknown level $1: v2, v3, v4, v4vnni or valgrind" >&2; return 2 ;;
  esac
}

# level_config LEVEL: the `cargo --config` setting that gives LEVEL its own whisper.cpp build in
# the workspace's target dir. whisper-rs-sys's build script never notices a change of GGML_*
# variables, but cargo hashes profile settings into a unit's identity: a per-level setting for
# whisper-rs-sys alone gives each level its own build of it and of the crates above it, beside
# the native build (-march=native) and kept between runs; the other dependencies are shared.
# Only the final libraries (cdylib names carry no hash) are relinked when another level ran last,
# so copy them away right after the build.
level_config() {
  local flags
  flags=$(ggml_flags "$1") || return
  echo "profile.release.package.whisper-rs-sys.codegen-units=$(( $(printf %s "$flags" | cksum | cut -d' ' -f1) % 1000 + 17 ))"
}

# level_build LEVEL PACKAGE: builds PACKAGE's library for LEVEL; prints whisper-rs-sys's build-script
# output dir, then the library files (cargo's JSON messages).
level_build() {
  env $(ggml_flags "$1") cargo build --release --locked -p "$2" --lib --config "$(level_config "$1")" \
    --message-format=json-render-diagnostics | python3 -c '
import json, sys
out_dir, libs = None, []
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m["reason"] == "build-script-executed" and "whisper-rs-sys" in m["package_id"]:
        out_dir = m["out_dir"]
    elif m["reason"] == "compiler-artifact" and m["package_id"].startswith("path+file://") \
            and set(m["target"]["kind"]) & {"cdylib", "staticlib"}:
        libs += [f for f in m["filenames"] if f.endswith((".so", ".a"))]
assert out_dir and libs, (out_dir, libs)
print("\n".join([out_dir] + libs))
'
}

# cpu_has_level LEVEL: whether this CPU runs LEVEL (the x86-64 psABI levels' flags).
cpu_has_level() {
  local flags need=()
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  case $1 in
    v2) need=(sse4_2 popcnt) ;;
    v3) need=(avx avx2 bmi1 bmi2 f16c fma abm movbe xsave) ;;
    v4) need=(avx avx2 bmi1 bmi2 f16c fma abm movbe xsave avx512f avx512bw avx512cd avx512dq avx512vl) ;;
    v4vnni) cpu_has_level v4 || return 1; need=(avx512_vnni avx512vbmi) ;;
    *) return 2 ;;
  esac
  local f
  for f in "${need[@]}"; do
    case $flags in *" $f "*) ;; *) return 1 ;; esac
  done
}

# cpu_level: the best level this CPU runs (v2, v3, v4 or v4vnni), as the Python and Node packages
# choose it (the C library's glibc picks v4 at most).
cpu_level() {
  if cpu_has_level v4vnni; then echo v4vnni
  elif cpu_has_level v4; then echo v4
  elif cpu_has_level v3; then echo v3
  else echo v2; fi
}
