// The README's quick start, pasted into a fresh project as a new user would, runs as shown.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { bindingDir, ffmpeg, jfk, model, tempDir } from './helpers.mjs'

test('the README quick start runs', () => {
  const readme = fs.readFileSync(path.join(bindingDir, 'README.md'), 'utf8')
  const code = readme.match(/```js\n(\/\/ quickstart\.mjs[^]*?)```/)
  assert.ok(code, 'README.md has the quick start')

  // The files it names, in a fresh project that depends on the package.
  const dir = tempDir('ytcaption-readme-')
  fs.symlinkSync(model, path.join(dir, 'ggml-tiny.en.bin'))
  fs.copyFileSync(jfk, path.join(dir, 'clip.wav'))
  ffmpeg(['-i', jfk, '-c:a', 'libmp3lame', '-b:a', '64k', path.join(dir, 'talk.mp3')])
  fs.writeFileSync(path.join(dir, 'notes.mp3'), 'These are my notes, not an MP3 file.\n'.repeat(50))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(bindingDir, path.join(dir, 'node_modules/ytcaption'))
  fs.writeFileSync(path.join(dir, 'quickstart.mjs'), code[1])

  const r = spawnSync(process.execPath, ['quickstart.mjs'], { cwd: dir, encoding: 'utf8', timeout: 300_000 })
  assert.equal(r.status, 0, r.stderr)
  const out = r.stdout
  assert.ok(out.match(/ask not what your country can do for you/gi)?.length >= 2, out)
  assert.match(out, /^job_created [0-9a-f-]{36} /m)
  assert.match(out, /^transcription_completed /m)
  assert.match(out, /^unsupported_format decode unsupported format: /m)
  assert.match(fs.readFileSync(path.join(dir, 'clip.srt'), 'utf8'), /^1\n00:00:00,\d{3} --> /)
  assert.ok(fs.existsSync(path.join(dir, 'yc/journal')))
})
