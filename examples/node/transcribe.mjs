// Transcribe a media file with ytcaption from Node.js: once directly, once as a durable job.
//
//   cd examples/node && npm install        # links ../../bindings/node and builds its addon (Rust)
//   node transcribe.mjs MODEL INPUT
//   node transcribe.mjs ggml-tiny.en.bin ../../fixtures/audio/en_jfk.wav
//
// In your own project: `npm install /path/to/ytcaption/bindings/node`, then the same code.
// MODEL is a whisper.cpp model file (ggml-*.bin; `ytcaption model download tiny.en` fetches one).
// The one-shot transcript goes to stdout as SRT; the job's events and result go to stderr.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import * as yc from 'ytcaption'

const [model, input] = process.argv.slice(2)
if (!model || !input) {
  console.error('usage: node transcribe.mjs MODEL INPUT')
  process.exit(2)
}

try {
  await oneShot()
  await asJob()
} catch (err) {
  // Every failure is an Error with the core's stable code (input_not_found, job_failed, ...).
  console.error(`error: ${err.message} [${err.code}]`)
  process.exitCode = 1
}

/** Loads the model, transcribes off the JavaScript thread, resolves to a Transcript. */
async function oneShot() {
  const t = await yc.transcribe(input, { model, language: 'en' })
  process.stdout.write(t.toSrt()) // also toVtt(), toJson(), toTxt()
}

/**
 * A durable job: written to the journal in `home`, run by the pipeline's worker. A job
 * interrupted by a crash is picked up again by the next Pipeline on the same home.
 */
async function asJob() {
  const home = mkdtempSync(join(tmpdir(), 'ytcaption-example-'))
  const pipeline = await yc.Pipeline.open({ home, model, workers: 1 })
  try {
    pipeline.onEvent((ev) => console.error(`event: ${ev.type}`))
    const job = await pipeline.submit(input, { language: 'en' })
    // Resolves when the job completes; rejects if it failed, was cancelled or timed out.
    const result = await pipeline.wait(job.id, { timeoutSeconds: 600 })
    console.error(`job ${job.id}: ${(await pipeline.get(job.id)).status}`)
    console.error(`job text: ${result.text.trim()}`)
    // The job also wrote <home>/results/<job_id>/transcript.{srt,vtt,json,txt}.
  } finally {
    await pipeline.close() // ends the event listener, so the process can exit
    rmSync(home, { recursive: true, force: true })
  }
}
