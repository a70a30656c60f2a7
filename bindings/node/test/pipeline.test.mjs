// Durable jobs on real speech: submit, wait, get, list, result, the journal's events, live
// events in order, cancellation of pending and running jobs, idempotency.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import * as yc from 'ytcaption'

import { jfk, model, nextEvent, reference, rejectsWith, repeatWav, tempDir, threads } from './helpers.mjs'

const ref = reference('en_jfk.wav')

test('submit, wait, get, list, result and events in order', async () => {
  const home = path.join(tempDir(), 'home')
  const p = await yc.Pipeline.open({ home, model, workers: 1, threads })
  assert.equal(p.home, home)
  assert.equal(p.closed, false)
  const live = []
  p.onEvent((ev) => live.push(ev))

  const job = await p.submit(jfk, { language: 'en', priority: 'high', requestedBy: 'node test' })
  assert.match(job.id, /^[0-9a-f-]{36}$/)
  assert.equal(job.status, 'pending')
  assert.equal(job.priority, 'high')
  assert.equal(job.language, 'en')
  assert.equal(job.input, jfk)
  assert.equal(job.requestedBy, 'node test')
  assert.equal(job.attempts, 0)
  assert.ok(job.createdAt instanceof Date)

  const t = await p.wait(job.id)
  assert.ok(t instanceof yc.Transcript)
  assert.equal(t.jobId, job.id)
  assert.ok(yc.wordErrorRate(ref, t.text) <= 0.1, t.text)

  const done = await p.get(job.id)
  assert.equal(done.status, 'completed')
  assert.equal(done.attempts, 1)
  assert.ok(done.completedAt instanceof Date && done.completedAt >= done.createdAt)
  assert.equal(done.error, undefined)
  assert.equal((await p.result(job.id)).toSrt(), t.toSrt())
  assert.deepEqual(
    (await p.list({ status: 'completed' })).map((j) => j.id),
    [job.id],
  )
  assert.deepEqual(await p.list({ status: 'pending' }), [])
  assert.equal((await p.list()).length, 1)
  assert.equal(await p.isIdle(), true)

  // close() resolves after every event published before it reached the listener.
  await p.close()
  assert.equal(p.closed, true)
  const mine = live.filter((e) => e.jobId === job.id)
  const types = mine.map((e) => e.type)
  assert.deepEqual(types.slice(0, 4), ['job_created', 'download_started', 'audio_ready', 'transcription_started'])
  assert.equal(types.at(-1), 'transcription_completed')
  assert.ok(types.slice(4, -1).every((x) => x === 'transcription_progress' || x === 'chunk_transcribed'), types.join())
  assert.ok(types.includes('chunk_transcribed'), types.join())
  assert.equal(mine[3].data.resumed_chunks, 0)
  for (let i = 1; i < mine.length; i++) {
    assert.equal(mine[i].causationId, mine[i - 1].eventId, 'each event is caused by the previous one')
    assert.ok(mine[i].timestamp >= mine[i - 1].timestamp)
  }
  assert.equal(mine[0].causationId, undefined)
  assert.equal(mine[0].correlationId, job.id)
  assert.equal(mine[0].data.priority, 'high')
  const completed = mine.at(-1).data
  assert.equal(completed.language, 'en')
  assert.equal(completed.segments, t.segments.length)
  assert.deepEqual(Object.keys(completed.result_urls).sort(), ['json', 'srt', 'txt', 'vtt'])

  // The journal has the same events, and the home keeps them across pipelines.
  const again = await yc.Pipeline.open({ home, workers: 0 })
  const logged = await again.events(job.id)
  assert.deepEqual(
    logged.map((e) => e.eventId),
    mine.map((e) => e.eventId),
  )
  assert.equal((await again.get(job.id)).status, 'completed')
  assert.equal((await again.result(job.id)).text, t.text)
  await again.close()
})

test('cancel a pending job and a running one', async () => {
  const p = await yc.Pipeline.open({ home: tempDir(), model, workers: 1, threads })
  const started = nextEvent(p, (ev) => ev.type === 'transcription_started')
  // 88 s of speech for the job to cancel while it runs (jfk.wav alone takes under half a second).
  const running = await p.submit(repeatWav(8), { language: 'en' })
  const pending = await p.submit(jfk, { language: 'en', priority: 'low' })
  assert.equal((await started).jobId, running.id)

  const c = await p.cancel(pending.id)
  assert.equal(c.status, 'cancelled')
  await rejectsWith(p.wait(pending.id), 'cancelled', 'cancelled')

  const cancelledEvent = nextEvent(p, (ev) => ev.type === 'job_cancelled' && ev.jobId === running.id)
  const t0 = Date.now()
  assert.equal((await p.cancel(running.id)).status, 'cancelled')
  await rejectsWith(p.wait(running.id), 'cancelled', 'cancelled')
  assert.equal((await cancelledEvent).data.from, 'transcribing')
  assert.ok(Date.now() - t0 < 5000, 'a running transcription stops quickly')

  const ids = (await p.list({ status: 'cancelled' })).map((j) => j.id).sort()
  assert.deepEqual(ids, [pending.id, running.id].sort())
  // Cancelling again is refused: the job has ended.
  await rejectsWith(p.cancel(running.id), 'illegal_transition', 'invalid_state')
  await p.close()
})

test('an idempotency key returns the job it first created', async () => {
  const p = await yc.Pipeline.open({ home: tempDir(), workers: 0 })
  const a = await p.submit(jfk, { idempotencyKey: 'upload-42', beamSize: 3 })
  const b = await p.submit(jfk, { idempotencyKey: 'upload-42', beamSize: 3, priority: 'high' })
  const c = await p.submit(jfk, { idempotencyKey: 'upload-43' })
  // The same key with other decoding options is another request: refused, nothing created.
  await rejectsWith(p.submit(jfk, { idempotencyKey: 'upload-42' }), 'idempotency_conflict')
  assert.equal(a.id, b.id)
  assert.notEqual(a.id, c.id)
  assert.equal(a.idempotencyKey, 'upload-42')
  assert.equal(a.language, 'auto')
  assert.equal(a.priority, 'normal')
  assert.deepEqual(
    (await p.list({ status: 'pending' })).map((j) => j.id).sort(),
    [a.id, c.id].sort(),
  )
  await p.close()
})
