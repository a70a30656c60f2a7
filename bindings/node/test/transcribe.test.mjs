// One-shot transcription on real speech with the real model: the result, its renderers, the
// accuracy against the CLI's, events of an Engine, and a JavaScript thread that keeps running.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import * as yc from 'ytcaption'

import { cli, jfk, model, reference, rejectsWith, repeatWav, threads } from './helpers.mjs'

const ref = reference('en_jfk.wav')

test('transcribe() returns the transcript, within 0.02 WER of the CLI', async () => {
  const t = await yc.transcribe(jfk, { model, language: 'en', threads })
  assert.ok(t instanceof yc.Transcript)
  assert.equal(t.language, 'en')
  assert.equal(t.model, 'tiny.en')
  assert.ok(Math.abs(t.duration - 11) < 0.1, `duration ${t.duration}`)
  assert.ok(t.processingTime > 0)
  assert.ok(t.createdAt instanceof Date)
  assert.match(t.id, /^[0-9a-f-]{36}$/)
  assert.match(t.jobId, /^[0-9a-f-]{36}$/)

  const segs = t.segments
  assert.ok(segs.length >= 1)
  segs.forEach((s, i) => {
    assert.equal(s.id, i)
    assert.ok(s.start >= 0 && s.end >= s.start && s.end <= t.duration + 1e-9, JSON.stringify(s))
    assert.ok(s.text.length > 0)
    if (i > 0) assert.ok(s.start >= segs[i - 1].start)
  })
  assert.equal(t.text, segs.map((s) => s.text).join(' '))

  const out = spawnSync(cli(), ['transcribe', jfk, '-m', model, '-l', 'en', '-t', String(threads), '-F', 'txt'], {
    encoding: 'utf8',
  })
  assert.equal(out.status, 0, out.stderr)
  const cliWer = yc.wordErrorRate(ref, out.stdout)
  const wer = yc.wordErrorRate(ref, t.text)
  assert.ok(Math.abs(wer - cliWer) <= 0.02, `node WER ${wer} vs CLI WER ${cliWer}`)
  assert.ok(wer <= 0.1, `WER ${wer}: ${t.text}`)
  // The CLI and the binding run the same core on the same model: the same text.
  assert.equal(t.toTxt(), out.stdout)

  // Renderers are the core's.
  assert.match(t.toSrt(), /^1\n00:00:00,\d{3} --> 00:00:\d\d,\d{3}\n/)
  assert.match(t.toVtt(), /^WEBVTT\n\n00:00:00\.\d{3} --> /)
  assert.equal(t.toTxt().trim().split('\n').length, segs.length)
  const doc = JSON.parse(t.toJson())
  assert.equal(doc.text, t.text)
  assert.equal(doc.duration_seconds, t.duration)
  assert.equal(doc.segments.length, segs.length)
  assert.deepEqual(JSON.parse(JSON.stringify(t)), doc)
})

test('the event loop keeps ticking while whisper.cpp runs', async () => {
  // 88 s of speech: jfk.wav alone takes under half a second.
  const clip = repeatWav(8)
  const period = 10
  const started = Date.now()
  let last = started
  let maxGap = 0
  let ticks = 0
  const timer = setInterval(() => {
    const now = Date.now()
    maxGap = Math.max(maxGap, now - last)
    last = now
    ticks++
  }, period)
  try {
    const t = await yc.transcribe(clip, { model, language: 'en', threads: 1 })
    assert.ok(t.text.length > 0)
  } finally {
    clearInterval(timer)
  }
  const elapsed = Date.now() - started
  // A blocked thread would tick about once, with one gap as long as the transcription.
  assert.ok(elapsed > 1000, `the transcription took ${elapsed} ms: too short to tell`)
  assert.ok(maxGap < Math.min(500, elapsed / 3), `longest gap ${maxGap} ms in ${elapsed} ms`)
  assert.ok(ticks >= (elapsed / period) * 0.3, `${ticks} ticks in ${elapsed} ms`)
})

test('an Engine reuses its model and reports events in order', async () => {
  const engine = await yc.Engine.open({ model, threads })
  const events = []
  const sub = engine.onEvent((ev) => events.push(ev))
  const a = await engine.transcribe(jfk, { language: 'en' })
  const b = await engine.transcribe(jfk, { language: 'english' })
  assert.equal(b.language, 'en')
  assert.ok(yc.wordErrorRate(ref, a.text) <= 0.1 && yc.wordErrorRate(ref, b.text) <= 0.1)
  await rejectsWith(engine.transcribe('missing.wav'), 'input_not_found', 'invalid_input')
  // close() resolves once the listener has seen every event published before it.
  await engine.close()
  assert.ok(sub.closed)
  for (const t of [a, b]) {
    const mine = events.filter((e) => e.jobId === t.jobId)
    const types = mine.map((e) => e.type)
    assert.deepEqual(types.slice(0, 2), ['audio_ready', 'transcription_started'])
    assert.ok(types.length > 2 && types.slice(2).every((x) => x === 'transcription_progress' || x === 'chunk_transcribed'), types.join())
    assert.ok(types.includes('chunk_transcribed'), types.join())
    const percents = mine.filter((e) => e.type === 'transcription_progress').map((e) => e.data.percent)
    assert.ok(percents.every((x, i) => x >= 0 && x <= 100 && (i === 0 || x >= percents[i - 1])), percents.join())
    for (let i = 1; i < mine.length; i++) {
      assert.equal(mine[i].causationId, mine[i - 1].eventId)
      assert.ok(mine[i].eventId > mine[i - 1].eventId, 'event ids sort by time')
    }
  }
  const ready = events.find((e) => e.type === 'audio_ready')
  assert.ok(Math.abs(ready.data.duration_seconds - 11) < 0.1)
  assert.ok(ready.timestamp instanceof Date)
  assert.equal(ready.version, 1)
  const failed = events.at(-1)
  assert.equal(failed.type, 'transcription_failed')
  assert.equal(failed.data.code, 'input_not_found')
  // The engine still works; its closed listener hears nothing more.
  const n = events.length
  await rejectsWith(engine.transcribe('missing.wav'), 'input_not_found')
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(events.length, n)
})

test('the package loads from CommonJS and ESM alike', () => {
  const require = createRequire(import.meta.url)
  const cjs = require('ytcaption')
  for (const name of ['transcribe', 'Pipeline', 'Engine', 'Transcript', 'errorCodes', 'wordErrorRate', 'version']) {
    assert.ok(cjs[name], `require('ytcaption').${name}`)
    assert.equal(yc[name], cjs[name], `import * as yc: yc.${name}`)
  }
  assert.equal(yc.version(), require('ytcaption/package.json').version)
  assert.equal(yc.errorCodes().length, new Set(yc.errorCodes()).size)
  assert.ok(yc.errorCodes().includes('decode_failed'))
})

test('word timestamps, and chunks transcribed in parallel', async () => {
  // jfk.wav (11 s) in chunks of about 5 s, two at a time, with word timings.
  const engine = await yc.Engine.open({ model, threads: 1, chunkSeconds: 5, parallelChunks: 2 })
  const events = []
  engine.onEvent((ev) => events.push(ev))
  const t = await engine.transcribe(jfk, { language: 'en', wordTimestamps: true, conditionOnPreviousText: false })
  await engine.close()
  assert.ok(yc.wordErrorRate(ref, t.text) <= 0.1, t.text)
  const chunks = events.filter((e) => e.type === 'chunk_transcribed').map((e) => e.data)
  assert.ok(chunks.length >= 2, JSON.stringify(chunks))
  assert.deepEqual(chunks.map((c) => c.index).sort((a, b) => a - b), [...chunks.keys()])
  for (const c of chunks) assert.ok(c.start_seconds >= 0 && c.start_seconds < c.end_seconds && c.end_seconds <= t.duration + 0.05)
  const words = t.segments.flatMap((s) => s.words)
  assert.ok(words.length >= 15, JSON.stringify(words))
  for (const s of t.segments) {
    for (const w of s.words) {
      assert.ok(w.start >= s.start - 0.5 && w.start <= w.end && w.end <= s.end + 0.5, JSON.stringify([s, w]))
      assert.ok(w.probability >= 0 && w.probability <= 1 && w.text.length > 0)
    }
  }
  assert.match(words.map((w) => w.text).join('').toLowerCase(), /country/)
  const plain = await (await yc.Engine.open({ model, threads: 1 })).transcribe(jfk, { language: 'en' })
  assert.ok(plain.segments.every((s) => s.words.length === 0))
  await rejectsWith(yc.Engine.open({ model, parallelChunks: 65 }), 'invalid_input', 'invalid_input')
  await rejectsWith(yc.Engine.open({ model, chunkSeconds: 1 }), 'invalid_input', 'invalid_input')
})

test('options are the core settings: chunkSeconds 0 is one chunk, bad values name the field', async () => {
  // 0 means "no chunking" (and parallelChunks 0 "one per core"), as everywhere in ytcaption:
  // 44 s of speech, which the default 16 s target cuts in two or more, is one chunk.
  const engine = await yc.Engine.open({ model, threads, chunkSeconds: 0, parallelChunks: 0 })
  const events = []
  engine.onEvent((ev) => events.push(ev))
  const t = await engine.transcribe(repeatWav(4), { language: 'en' })
  await engine.close()
  assert.ok(t.duration > 40 && /country/i.test(t.text), t.text)
  const chunks = events.filter((e) => e.type === 'chunk_transcribed').map((e) => e.data)
  assert.equal(chunks.length, 1, JSON.stringify(chunks))
  assert.ok(chunks[0].start_seconds === 0 && chunks[0].end_seconds >= t.duration - 0.05, JSON.stringify(chunks))

  const named = async (promise, field) => {
    const err = await rejectsWith(promise, 'invalid_input', 'invalid_input')
    assert.ok(err.message.includes(field), `the message names ${field}: ${err.message}`)
  }
  await named(yc.transcribe(jfk, { model, threads: 1, beamSize: 0 }), 'beam_size')
  await named(yc.transcribe(jfk, { model, threads: 1, bestOf: 'five' }), 'best_of')
  await named(yc.Engine.open({ model, chunkSeconds: Infinity }), 'chunkSeconds')
  await named(yc.Engine.open({ model, threads: 1.5 }), 'threads')
  await named(yc.Engine.open({ model, threads: true }), 'threads')
  // Keys are the core's names in camelCase; anything else is refused, not ignored.
  await named(yc.Engine.open({ model, chunk_seconds: 0 }), 'chunk_seconds')
  await named(yc.Engine.open({ model, beamSize: 2 }), 'beamSize')
  await named(yc.transcribe(jfk, { model, threads: 1, beamsize: 2 }), 'beamsize')
  // undefined and null keep the defaults.
  const plain = await yc.transcribe(jfk, { model, threads: 1, language: 'en', beamSize: undefined, initialPrompt: null })
  assert.ok(yc.wordErrorRate(ref, plain.text) <= 0.1, plain.text)
})
