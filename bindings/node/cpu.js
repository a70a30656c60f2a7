'use strict'
// The package's entry point: loads the addon built for this CPU, then napi-rs's loader (index.js).
//
// A package made by scripts/release.sh carries whisper.cpp built for four x86-64 levels:
// ytcaption.linux-x64-gnu.node (x86-64-v2: SSE4.2, any x86-64 CPU of the last 15 years) and, next
// to it, ytcaption.linux-x64-gnu-v3.node (AVX2, FMA, F16C), ytcaption.linux-x64-gnu-v4.node
// (AVX-512) and ytcaption.linux-x64-gnu-v4vnni.node (AVX-512 with VNNI and VBMI). This file picks the best one the CPU runs (from /proc/cpuinfo) and hands it to
// index.js through NAPI_RS_NATIVE_LIBRARY_PATH, the loader's own override. A build from source
// has only the first file (built for the machine that compiled it), which index.js loads as usual.
// YTCAPTION_CPU=v2 (or v3, v4, v4vnni) picks a level by hand.

const fs = require('node:fs')
const path = require('node:path')

const V3 = ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']
const V4 = [...V3, 'avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl']
const NEEDS = { v4vnni: [...V4, 'avx512_vnni', 'avx512vbmi'], v4: V4, v3: V3 }
// The variant addons, best first.
const LEVELS = ['v4vnni', 'v4', 'v3']

function variantFile(level) {
  return path.join(__dirname, `ytcaption.linux-x64-gnu-${level}.node`)
}

function cpuFlags() {
  try {
    const m = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))
    return new Set(m ? m[1].trim().split(/\s+/) : [])
  } catch {
    return new Set()
  }
}

/** The variant file to load, or null for index.js's own choice. */
function chooseAddon() {
  const wanted = (process.env.YTCAPTION_CPU || '').trim().toLowerCase()
  if (wanted && !['v2', ...LEVELS].includes(wanted)) {
    throw new Error(`YTCAPTION_CPU=${wanted}: expected v2, v3, v4 or v4vnni`)
  }
  if (process.platform !== 'linux' || process.arch !== 'x64' || wanted === 'v2') return null
  const variants = LEVELS.filter((level) => fs.existsSync(variantFile(level)))
  if (wanted) {
    if (!variants.includes(wanted)) throw new Error(`YTCAPTION_CPU=${wanted}: this install has no ${wanted} addon`)
    return variantFile(wanted)
  }
  const flags = cpuFlags()
  const level = variants.find((l) => NEEDS[l].every((f) => flags.has(f)))
  return level ? variantFile(level) : null
}

const addon = process.env.NAPI_RS_NATIVE_LIBRARY_PATH ? null : chooseAddon()
if (addon) process.env.NAPI_RS_NATIVE_LIBRARY_PATH = addon
// (A plain top-level `module.exports = require()`: Node's ESM import finds the named exports.)
module.exports = require('./index.js')
if (addon) delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH
