#!/usr/bin/env node
// Builds the native addon from source with cargo and puts it next to index.js.
//
//   node build.js            `npm run build`: builds, then regenerates index.js and index.d.ts
//                            from the #[napi] items (needs the dev dependency @napi-rs/cli)
//   node build.js --install  `npm install`: in a source checkout, builds (a no-op when the
//                            addon is fresh); in an installed package, checks that the
//                            prebuilt addon for this platform is there
//
// Cargo builds into the workspace's target directory (`$CARGO_TARGET_DIR` when set), for the
// host, without `--target`: `napi build` always passes one, which would build whisper.cpp a
// second time in a per-triple directory. Typings come from napi-rs's own generator, plus the
// option objects' interfaces, which the addon writes from the core's settings tables.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const here = __dirname
const pkg = require('./package.json')
const binaryName = pkg.napi.binaryName
const crateName = 'ytcaption-node'

/** The platform part of the addon's file name, as napi-rs's generated index.js looks it up. */
function platformTag() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function isMusl() {
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    const report = process.report && process.report.getReport ? process.report.getReport() : null
    return !(report && report.header && report.header.glibcVersionRuntime)
  }
}

function fail(message) {
  console.error(`ytcaption: ${message}`)
  process.exit(1)
}

function cargo(args, env) {
  const r = spawnSync('cargo', args, {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (r.error && r.error.code === 'ENOENT') {
    fail('building the addon from source needs Rust (cargo): https://rustup.rs')
  }
  if (r.status !== 0) fail(`cargo ${args[0]} failed (exit ${r.status})`)
  return r.stdout
}

function targetDir() {
  const meta = JSON.parse(cargo(['metadata', '--format-version', '1', '--no-deps']))
  return meta.target_directory
}

/** Builds the cdylib (release) and copies it to `<binaryName>.<platform>.node`. */
function buildAddon(env) {
  const out = cargo(
    ['build', '--release', '--lib', '-p', crateName, '--message-format=json-render-diagnostics'],
    env,
  )
  let artifact = null
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target && msg.target.kind.includes('cdylib')) {
      artifact = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || artifact
    }
  }
  if (!artifact) fail('cargo did not report the addon library')
  const dest = path.join(here, `${binaryName}.${platformTag()}.node`)
  // Copy to a temporary name first: a process may have the old file mapped.
  fs.copyFileSync(artifact, `${dest}.tmp`)
  if (process.platform === 'linux') {
    // The release profile keeps line tables (80 % of the file); the copy does without them,
    // keeping the symbols. Optional: without binutils' strip the copy is just larger.
    spawnSync('strip', ['--strip-debug', `${dest}.tmp`], { stdio: 'ignore' })
  }
  fs.renameSync(`${dest}.tmp`, dest)
  console.error(`ytcaption: built ${path.relative(process.cwd(), dest) || dest}`)
}

/**
 * The environment that makes napi-derive write each item's TypeScript into a folder of the
 * target directory while the crate compiles. Both modes use the same values, so switching
 * between `npm install` and `npm run build` does not recompile the crate.
 */
function typeDefEnv() {
  const typeDefDir = path.join(targetDir(), 'napi-rs', `${crateName}-typedef`)
  fs.mkdirSync(typeDefDir, { recursive: true })
  // napi-build reruns (so the crate recompiles and writes the file) when this value changes:
  // change it only when the file is missing, and keep it the same otherwise.
  const stamp = `${typeDefDir}.stamp`
  if (!fs.existsSync(path.join(typeDefDir, crateName)) || !fs.existsSync(stamp)) {
    fs.writeFileSync(stamp, String(Date.now()))
  }
  return {
    typeDefDir,
    env: {
      NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir,
      [`NAPI_FORCE_BUILD_${crateName.toUpperCase().replace(/-/g, '_')}`]: fs
        .readFileSync(stamp, 'utf8')
        .trim(),
    },
  }
}

async function buildWithTypings() {
  let cli
  try {
    cli = await import('@napi-rs/cli')
  } catch {
    fail('`npm run build` regenerates the typings with @napi-rs/cli: run `npm install` first')
  }
  const { typeDefDir, env } = typeDefEnv()
  buildAddon(env)
  const { exports, dts } = await cli.generateTypeDef({
    typeDefDir,
    cwd: here,
    configDtsHeaderFile: pkg.napi.dtsHeaderFile,
    declareBindingTarget: true,
  })
  // The option objects' interfaces are written from the core's settings tables, by the addon
  // itself (no Rust struct lists their fields).
  const addon = require(path.join(here, `${binaryName}.${platformTag()}.node`))
  fs.writeFileSync(path.join(here, 'index.d.ts'), `${dts.trimEnd()}\n\n${addon.__optionTypings()}`)
  await cli.writeJsBinding({
    platform: true,
    idents: exports,
    binaryName,
    packageName: pkg.name,
    version: pkg.version,
    outputDir: here,
  })
  console.error('ytcaption: wrote index.js and index.d.ts')
}

function install() {
  const prebuilt = path.join(here, `${binaryName}.${platformTag()}.node`)
  if (fs.existsSync(path.join(here, 'Cargo.toml'))) {
    buildAddon(typeDefEnv().env)
    return
  }
  if (!fs.existsSync(prebuilt)) {
    fail(
      `no prebuilt addon for ${platformTag()} in this package; build it from a checkout of ` +
        'the repository: npm install /path/to/ytcaption/bindings/node',
    )
  }
}

if (process.argv.includes('--install')) {
  install()
} else {
  buildWithTypings().catch((e) => fail(e && e.stack ? e.stack : String(e)))
}
