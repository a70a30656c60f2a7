// Shared paths and checks of the Node binding's tests: the real tiny.en model, the real
// speech fixtures, the shared target directory and the CLI to compare against.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import * as yc from 'ytcaption'

export const bindingDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const repo = path.resolve(bindingDir, '../..')
export const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(repo, process.env.CARGO_TARGET_DIR)
  : path.join(repo, 'target')

/** The tiny.en model: `$YTCAPTION_TEST_MODEL`, else the one `scripts/test.sh` imports. */
export const model = (() => {
  const candidates = [
    process.env.YTCAPTION_TEST_MODEL,
    path.join(targetDir, 'test-data/models/ggml-tiny.en.bin'),
    path.join(repo, 'target/test-data/models/ggml-tiny.en.bin'),
    path.join(repo, '../shared/models/ggml-tiny.en.bin'),
  ].filter(Boolean)
  const found = candidates.find((p) => fs.existsSync(p))
  if (!found) {
    throw new Error(
      `no tiny.en model for the tests (looked at ${candidates.join(', ')}): run scripts/test.sh, or set YTCAPTION_TEST_MODEL`,
    )
  }
  return found
})()

export const audio = path.join(repo, 'fixtures/audio')
export const jfk = path.join(audio, 'en_jfk.wav')

/** The reference text of a fixture, from `fixtures/audio/transcripts.tsv`. */
export function reference(file) {
  for (const line of fs.readFileSync(path.join(audio, 'transcripts.tsv'), 'utf8').split('\n')) {
    const [name, , text] = line.split('\t')
    if (name === file) return text
  }
  throw new Error(`${file} is not in transcripts.tsv`)
}

/** The error families that index.d.ts documents on `YtcaptionError.category`. */
const documentedCategories = (() => {
  const dts = fs.readFileSync(path.join(bindingDir, 'index.d.ts'), 'utf8')
  const doc = dts.match(/The family: ([^]*?)\n\s*\*\/\n\s*category: string/)
  assert.ok(doc, 'index.d.ts documents YtcaptionError.category')
  const names = [...doc[1].matchAll(/`'([a-z_]+)'`/g)].map((m) => m[1])
  assert.deepEqual(names, yc.errorCategories(), 'index.d.ts documents every error family')
  return names
})()

/**
 * whisper.cpp threads for the tests: 1. Its threads spin while they wait, so on a small or busy
 * machine (2 cores here, shared with Node's own threads) 2 threads are several times slower.
 */
export const threads = 1

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'ytcaption-node-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Asserts that `promise` rejects (or `fn` throws) a JavaScript `Error` with the core's `code`
 * and the expected `category`, a message, and a code from `errorCodes()`. Returns the error.
 */
export async function rejectsWith(promiseOrFn, code, category) {
  let err
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn)
  } catch (e) {
    err = e
  }
  assert.ok(err, `expected a rejection with code ${code}`)
  assert.ok(err instanceof Error, `not an Error: ${err}`)
  assert.equal(err.code, code, `code of: ${err.message}`)
  if (category) assert.equal(err.category, category, `category of: ${err.message}`)
  assert.ok(documentedCategories.includes(err.category), `${err.category} is documented in index.d.ts`)
  assert.ok(err.message.length > 0)
  assert.ok(yc.errorCodes().includes(err.code), `${err.code} is not a stable code`)
  return err
}

/** The `ytcaption` CLI: `$YTCAPTION_BIN`, else built (a no-op when fresh) with cargo. */
export function cli() {
  if (process.env.YTCAPTION_BIN) return path.resolve(repo, process.env.YTCAPTION_BIN)
  const r = spawnSync(
    'cargo',
    ['build', '--release', '--locked', '-p', 'ytcaption-cli', '--message-format=json-render-diagnostics'],
    { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
  )
  assert.equal(r.status, 0, 'building the CLI failed')
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.executable && msg.target.name === 'ytcaption') {
      return msg.executable
    }
  }
  throw new Error('cargo did not report the ytcaption executable')
}

/** Runs ffmpeg quietly; fails the test when it fails. */
export function ffmpeg(args) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, `ffmpeg ${args.join(' ')}: ${r.stderr}`)
}

/** Resolves with the first event `pred` accepts, from a pipeline's or engine's listener. */
export function nextEvent(source, pred) {
  return new Promise((resolve) => {
    const sub = source.onEvent((ev) => {
      if (pred(ev)) {
        sub.unsubscribe()
        resolve(ev)
      }
    })
  })
}

/** jfk.wav's samples `times` over, as a new WAV file (16-bit PCM, the header adjusted). */
export function repeatWav(times) {
  const wav = fs.readFileSync(jfk)
  const at = wav.indexOf('data')
  const data = wav.subarray(at + 8, at + 8 + wav.readUInt32LE(at + 4))
  const head = Buffer.from(wav.subarray(0, at + 8))
  head.writeUInt32LE(data.length * times, at + 4)
  head.writeUInt32LE(head.length - 8 + data.length * times, 4)
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'yc-')), `jfk_x${times}.wav`)
  fs.writeFileSync(out, Buffer.concat([head, ...Array(times).fill(data)]))
  return out
}
