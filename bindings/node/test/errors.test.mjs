// Every error code the binding can meet, each from a real bad input: a JavaScript Error whose
// `code` is the core's stable code and `category` its family.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import * as yc from 'ytcaption'

import { ffmpeg, jfk, model, nextEvent, rejectsWith, tempDir, threads } from './helpers.mjs'

const dir = tempDir()
const file = (name, bytes) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, bytes)
  return p
}

/** A WAV header whose data chunk has zero frames. */
function emptyWav() {
  const b = Buffer.alloc(44)
  b.write('RIFF', 0)
  b.writeUInt32LE(36, 4)
  b.write('WAVEfmt ', 8)
  b.writeUInt32LE(16, 16)
  b.writeUInt16LE(1, 20) // PCM
  b.writeUInt16LE(1, 22) // mono
  b.writeUInt32LE(16000, 24)
  b.writeUInt32LE(32000, 28)
  b.writeUInt16LE(2, 32)
  b.writeUInt16LE(16, 34)
  b.write('data', 36)
  b.writeUInt32LE(0, 40)
  return b
}

const jfkBytes = fs.readFileSync(jfk)
const truncated = file('truncated.wav', jfkBytes.subarray(0, jfkBytes.length >> 1))

test('one-shot transcription: media, language, option and model errors', async () => {
  const ac3 = path.join(dir, 'speech.mka')
  ffmpeg(['-i', jfk, '-c:a', 'ac3', ac3])
  const engine = await yc.Engine.open({ model, threads })
  const cases = [
    [path.join(dir, 'does-not-exist.wav'), {}, 'input_not_found', 'invalid_input'],
    [file('empty.wav', ''), {}, 'empty_input', 'invalid_input'],
    [file('notes.mp3', 'These are my notes, not an MP3 file.\n'.repeat(50)), {}, 'unsupported_format', 'decode'],
    [truncated, {}, 'decode_failed', 'decode'],
    [ac3, {}, 'unsupported_codec', 'decode'],
    [file('silence.wav', emptyWav()), {}, 'no_audio', 'decode'],
    [jfk, { language: 'klingon' }, 'invalid_input', 'invalid_input'],
    [jfk, { language: 'es' }, 'invalid_input', 'invalid_input'],
    [jfk, { beamSize: 0 }, 'invalid_input', 'invalid_input'],
    [jfk, { temperature: 2 }, 'invalid_input', 'invalid_input'],
    ['ftp://example.com/a.mp3', {}, 'invalid_input', 'invalid_input'],
  ]
  for (const [input, options, code, category] of cases) {
    const err = await rejectsWith(engine.transcribe(input, options), code, category)
    if (code !== 'invalid_input' && code !== 'decode_failed') {
      assert.ok(err.message.includes(path.basename(input)), `the message names the file: ${err.message}`)
    }
  }
  const es = await rejectsWith(engine.transcribe(jfk, { language: 'es' }), 'invalid_input')
  assert.match(es.message, /English-only|english/i)

  await rejectsWith(
    yc.transcribe(jfk, { model: path.join(dir, 'no-such-model.bin') }),
    'model_not_found',
    'model',
  )
  await rejectsWith(
    yc.transcribe(jfk, { model: file('ggml-fake.bin', 'not a model at all'), language: 'en' }),
    'model_invalid',
    'model',
  )
  await rejectsWith(yc.transcribe(jfk, { model, threads, language: 'xx' }), 'invalid_input')
  await rejectsWith(yc.Engine.open({ model: path.join(dir, 'nope.bin') }), 'model_not_found', 'model')
  // Counts are not wrapped around: -1 thread is refused, not 4294967295 threads.
  await rejectsWith(yc.Engine.open({ model, threads: -1 }), 'invalid_input')
  await rejectsWith(yc.Pipeline.open({ home: path.join(dir, 'neg'), workers: -2 }), 'invalid_input')
})

test('pipeline: job and lifecycle errors', async () => {
  const home = path.join(dir, 'home')
  const p = await yc.Pipeline.open({ home, model, workers: 1, threads })

  await rejectsWith(p.get('01890000-0000-7000-8000-000000000000'), 'job_not_found', 'job_not_found')
  await rejectsWith(p.wait('01890000-0000-7000-8000-000000000000'), 'job_not_found')
  await rejectsWith(p.get('not-a-job-id'), 'invalid_input', 'invalid_input')
  await rejectsWith(p.submit(path.join(dir, 'missing.wav')), 'input_not_found', 'invalid_input')
  await rejectsWith(p.submit(jfk, { priority: 'urgent' }), 'invalid_input')
  await rejectsWith(p.submit(jfk, { language: 'klingon' }), 'invalid_input')
  await rejectsWith(p.submit(jfk, { webhookUrl: 'ftp://x' }), 'webhook_refused', 'invalid_input')
  await rejectsWith(p.submit(jfk, { webhookUrl: 'http://169.254.169.254/hook' }), 'webhook_refused', 'invalid_input')
  await rejectsWith(p.list({ status: 'done' }), 'invalid_input')
  await rejectsWith(p.wait('01890000-0000-7000-8000-000000000000', { timeoutSeconds: -1 }), 'invalid_input')
  await rejectsWith(p.transcribe(path.join(dir, 'missing.wav')), 'input_not_found')
  await rejectsWith(p.transcribe(jfk, { language: 'es' }), 'invalid_input')

  // A job whose input is damaged fails; wait() says so, and the job keeps the cause.
  const failedEvent = nextEvent(p, (ev) => ev.type === 'transcription_failed')
  const bad = await p.submit(truncated)
  const err = await rejectsWith(p.wait(bad.id), 'job_failed', 'job_failed')
  assert.match(err.message, /decode_failed/)
  const job = await p.get(bad.id)
  assert.equal(job.status, 'failed')
  assert.equal(job.error.code, 'decode_failed')
  assert.equal((await failedEvent).data.code, 'decode_failed')
  await rejectsWith(p.result(bad.id), 'invalid_input')
  await rejectsWith(p.cancel(bad.id), 'illegal_transition', 'invalid_state')

  // One pipeline at a time owns a home.
  const locked = await rejectsWith(yc.Pipeline.open({ home, workers: 0 }), 'journal_locked', 'journal')
  assert.match(locked.message, new RegExp(`pid ${process.pid}`))

  await p.close()
  await rejectsWith(p.get(bad.id), 'closed', 'invalid_state')
  await rejectsWith(p.submit(jfk), 'closed')
  await rejectsWith(() => p.onEvent(() => {}), 'closed')
  await p.close() // idempotent

  // close() released the home: it opens again, and a job with no worker times out.
  const idle = await yc.Pipeline.open({ home, workers: 0 })
  const waiting = await idle.submit(jfk)
  const t0 = Date.now()
  await rejectsWith(idle.wait(waiting.id, { timeoutSeconds: 0.2 }), 'timeout', 'timeout')
  assert.ok(Date.now() - t0 < 3000)
  await idle.cancel(waiting.id)
  await rejectsWith(idle.wait(waiting.id), 'cancelled', 'cancelled')
  await idle.close()

  // Workers need a model.
  await rejectsWith(
    yc.Pipeline.open({ home: path.join(dir, 'other'), model: path.join(dir, 'nope.bin') }),
    'model_not_found',
    'model',
  )
})

test('probe: video info from a fake yt-dlp; playlists rejected', async () => {
  const dir = tempDir()
  fs.writeFileSync(
    path.join(dir, 'info.json'),
    JSON.stringify({
      id: 'dQw4w9WgXcQ',
      title: 'Inaugural Address',
      duration: 4000,
      uploader: 'JFK Library',
      upload_date: '19610120',
      live_status: 'not_live',
      subtitles: {},
      automatic_captions: { 'en-orig': [{ ext: 'vtt', url: 'https://www.youtube.com/api/timedtext' }] },
    }),
  )
  const fake = path.join(dir, 'yt-dlp')
  fs.writeFileSync(fake, '#!/bin/sh\ncat "$(dirname "$0")/info.json"\n', { mode: 0o755 })
  const info = await yc.probe('https://youtu.be/dQw4w9WgXcQ', { ytDlp: fake, home: dir })
  assert.equal(info.title, 'Inaugural Address')
  assert.equal(info.upload_date, '1961-01-20')
  assert.deepEqual(info.automatic_caption_languages, ['en-orig'])
  assert.ok(info.estimated_transcription_seconds > 0)
  assert.ok(info.warnings.some((w) => w.includes('over 1 hour')), info.warnings)
  const err = await rejectsWith(
    yc.probe('https://www.youtube.com/playlist?list=PL1', { ytDlp: fake }),
    'invalid_input',
    'invalid_input',
  )
  assert.match(err.message, /playlist/)
  await rejectsWith(yc.probe('https://youtu.be/dQw4w9WgXcQ', { beamSize: 5 }), 'invalid_input', 'invalid_input')
})
