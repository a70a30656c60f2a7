// Whole Node processes: one exits by itself after close(), a job interrupted by close()
// resumes in the next pipeline, and a listener that throws is an uncaught exception.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'

import * as yc from 'ytcaption'

import { bindingDir, jfk, model, tempDir, threads } from './helpers.mjs'

/** Runs an ES module script in a fresh Node process (it imports 'ytcaption'). */
function node(script, { timeoutMs = 120_000, killed = false } = {}) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: bindingDir,
    encoding: 'utf8',
    timeout: timeoutMs,
  })
  if (!killed) {
    assert.equal(r.signal, null, `the process did not exit within ${timeoutMs} ms: ${r.stderr}`)
  }
  return r
}

const json = JSON.stringify

test('close() requeues a running job; the next pipeline on the home finishes it', async () => {
  const home = path.join(tempDir(), 'home')
  const r = node(`
    import * as yc from 'ytcaption'
    const p = await yc.Pipeline.open({ home: ${json(home)}, model: ${json(model)}, workers: 1, threads: ${threads} })
    const seen = []
    const started = new Promise((resolve) =>
      p.onEvent((ev) => seen.push(ev.type) && ev.type === 'transcription_started' && resolve()),
    )
    const job = await p.submit(${json(jfk)}, { language: 'en' })
    await started
    await p.close()
    console.log(JSON.stringify({ id: job.id, seen }))
    // No exit(): the process ends by itself once closed.
  `)
  assert.equal(r.status, 0, r.stderr)
  const { id, seen } = JSON.parse(r.stdout)
  // close() resolved after the listener had every event, the requeue included.
  assert.deepEqual(seen.slice(0, 4), ['job_created', 'download_started', 'audio_ready', 'transcription_started'])
  assert.equal(seen.at(-1), 'job_requeued')

  const p = await yc.Pipeline.open({ home, model, workers: 1, threads })
  const t = await p.wait(id, { timeoutSeconds: 300 })
  assert.match(t.text, /fellow Americans/)
  const job = await p.get(id)
  assert.equal(job.attempts, 2)
  const types = (await p.events(id)).map((e) => e.type)
  assert.ok(types.includes('job_requeued'), types.join())
  assert.equal(types.at(-1), 'transcription_completed')
  await p.close()
})

test('a listener that throws raises an uncaught exception', () => {
  const r = node(`
    import * as yc from 'ytcaption'
    const engine = await yc.Engine.open({ model: ${json(model)} })
    engine.onEvent((ev) => { throw new Error('listener failed on ' + ev.type) })
    await engine.transcribe('missing.wav').catch(() => {})
    await engine.close()
    console.log('not reached')
  `)
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /listener failed on transcription_failed/)
  assert.doesNotMatch(r.stdout, /not reached/)
})

test('an unsubscribed listener lets the process exit; one never closed keeps it running', () => {
  const home = tempDir()
  const done = node(`
    import * as yc from 'ytcaption'
    const p = await yc.Pipeline.open({ home: ${json(home)}, workers: 0 })
    const sub = p.onEvent(() => {})
    setTimeout(() => sub.unsubscribe(), 200)
  `)
  assert.equal(done.status, 0, done.stderr)

  const open = node(
    `
    import * as yc from 'ytcaption'
    const p = await yc.Pipeline.open({ home: ${json(path.join(home, 'b'))}, workers: 0 })
    p.onEvent(() => {})
  `,
    { timeoutMs: 3000, killed: true },
  )
  assert.equal(open.signal, 'SIGTERM', 'the subscribed process ran until killed')
})
