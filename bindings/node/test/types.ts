// Type-checked (never run) by `npm test` with `tsc --noEmit`: the generated index.d.ts
// describes the API the way users write it.
import * as yc from 'ytcaption'
import { Pipeline, Transcript, type Job, type JobEvent, type Segment } from 'ytcaption'

async function oneShot(): Promise<string> {
  const t: Transcript = await yc.transcribe('clip.wav', { model: 'ggml-tiny.en.bin', language: 'en', threads: 2 })
  const text: string = t.text
  const language: string = t.language
  const duration: number = t.duration
  const first: Segment = t.segments[0]
  const span: [number, number, string] = [first.start, first.end, first.text]
  const noSpeech: number | undefined = first.noSpeechProb
  const words: yc.Word[] = first.words
  const word: [number, number, string, number] = [words[0].start, words[0].end, words[0].text, words[0].probability]
  void word
  const outputs: string[] = [t.toSrt(), t.toVtt(), t.toJson(), t.toTxt()]
  const created: Date = t.createdAt
  const probability: number | null = t.languageProbability
  void [text, language, duration, span, noSpeech, outputs, created, probability]
  return JSON.stringify(t)
}

async function engine(): Promise<void> {
  const e = await yc.Engine.open({ model: 'tiny.en', home: './yc', parallelChunks: 2, chunkSeconds: 30, vadModel: 'silero.bin' })
  const sub = e.onEvent((ev: JobEvent) => console.log(ev.type, ev.data.percent))
  await e.transcribe('a.mp3', { language: 'auto', beamSize: 5, initialPrompt: 'Dashwood', translate: false, wordTimestamps: true, conditionOnPreviousText: true })
  sub.unsubscribe()
  const closed: boolean = sub.closed
  void closed
  await e.close()
}

async function jobs(): Promise<void> {
  const p: Pipeline = await yc.Pipeline.open({ home: './yc', model: 'ggml-tiny.en.bin', workers: 2, parallelChunks: 1, chunkRetries: 1 })
  const job: Job = await p.submit('clip.wav', { language: 'en', priority: 'high', idempotencyKey: 'k', beamSize: 2 })
  const t2: Transcript = await p.wait(job.id)
  const t3: Transcript = await p.wait(job.id, { timeoutSeconds: 600 })
  p.onEvent((ev) => {
    const type: string = ev.type
    const id: string = ev.jobId
    const when: Date = ev.timestamp
    const data: Record<string, any> = ev.data
    void [type, id, when, data]
  })
  const got: Job = await p.get(job.id)
  const status: 'pending' | 'downloading' | 'transcribing' | 'completed' | 'failed' | 'cancelled' = got.status
  const code: string | undefined = got.error?.code
  const done: Job[] = await p.list({ status: 'completed', limit: 10 })
  const cancelled: Job = await p.cancel(job.id)
  const events: JobEvent[] = await p.events(job.id)
  const idle: boolean = await p.isIdle()
  const home: string = p.home
  void [t2, t3, status, code, done, cancelled, events, idle, home]
  await p.close()
}

async function errors(): Promise<void> {
  try {
    await yc.transcribe('missing.wav')
  } catch (e) {
    const err = e as yc.YtcaptionError
    if (err.code === 'input_not_found') console.log(err.message, err.category)
  }
  const codes: string[] = yc.errorCodes()
  const wer: number = yc.wordErrorRate('a b', 'a c')
  const v: string = yc.version()
  void [codes, wer, v]
}

// @ts-expect-error: priorities are 'low' | 'normal' | 'high'
void (async (p: Pipeline) => p.submit('a.wav', { priority: 'urgent' }))

// @ts-expect-error: transcribe() needs an input
void yc.transcribe()

void [oneShot, engine, jobs, errors]
