// The npm package: `npm pack` gives a tarball that installs into a fresh project, and
// `npm install /path/to/bindings/node` works from another directory.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { bindingDir, model, tempDir } from './helpers.mjs'

/** package.json: its version must equal the crate's (scripts/test-node.sh checks the workspace's). */
const pkg = JSON.parse(fs.readFileSync(path.join(bindingDir, 'package.json'), 'utf8'))

/** The environment without the `npm_*` variables of the `npm test` running us. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')))

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 600_000 })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

function freshProject() {
  const dir = tempDir('ytcaption-app-')
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  return dir
}

/** A user's script: CommonJS and ESM entry points, and a call into the core. */
const script = `
  const yc = require('ytcaption')
  import('ytcaption').then(async (esm) => {
    if (esm.transcribe !== yc.transcribe) throw new Error('ESM and CommonJS differ')
    const err = await yc.transcribe('missing.wav', { model: ${JSON.stringify(model)} }).catch((e) => e)
    console.log(JSON.stringify({ code: err.code, message: err.message, version: yc.version() }))
  })
`

function check(dir) {
  const out = JSON.parse(run(process.execPath, ['-e', script], dir))
  assert.equal(out.code, 'input_not_found')
  assert.equal(out.message, `input not found: ${path.join(fs.realpathSync(dir), 'missing.wav')}`)
  assert.equal(out.version, pkg.version) // the crate's version (the workspace's) is the package's
}

test('npm pack gives a package that installs into a fresh directory', () => {
  const packDir = tempDir('ytcaption-pack-')
  const listing = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packDir], bindingDir))
  const files = listing[0].files.map((f) => f.path).sort()
  for (const f of ['README.md', 'build.js', 'index.d.ts', 'index.js', 'package.json']) {
    assert.ok(files.includes(f), `${f} is packed: ${files}`)
  }
  assert.ok(files.some((f) => f.endsWith('.node')), `the addon is packed: ${files}`)
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), `${files}`)

  const app = freshProject()
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(packDir, listing[0].filename)], app)
  assert.ok(!fs.lstatSync(path.join(app, 'node_modules/ytcaption')).isSymbolicLink())
  check(app)
})

test('npm install /path/to/bindings/node builds (or reuses) the addon and works', () => {
  const app = freshProject()
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', bindingDir], app)
  check(app)
})
