// The browser half of cli/tests/web.rs: drives `ytcaption serve`'s web page in Debian's
// chromium (headless, through playwright-core) the way a person would, and prints what the page
// showed as one JSON line on stdout for the Rust test to check against the clip's reference.
//
// Environment (set by cli/tests/web.rs):
//   WEB_BASE        the server, http://127.0.0.1:PORT
//   WEB_CLIP        a speech clip to upload through the file input
//   WEB_SLOW_URL    a media URL that never answers (a job to cancel while it downloads)
//   WEB_OUT         a folder for the downloaded file and, on failure, a screenshot
//   PLAYWRIGHT_DIR  where scripts/fetch-playwright.sh installed playwright-core
//   CHROMIUM        the browser (/usr/bin/chromium)
// Any failure exits 1 with the reason on stderr.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('WEB_BASE');
const clip = env('WEB_CLIP');
const slowUrl = env('WEB_SLOW_URL');
const out = env('WEB_OUT');
const require = createRequire(join(env('PLAYWRIGHT_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const origin = new URL(base).origin;
const requests = [];
const problems = [];
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[page ${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}\n`);
const check = (ok, msg) => {
  if (!ok) throw new Error(msg);
};
/** Waits until a request after `from` (an index into `requests`) matches `pred`. */
const requested = async (from, pred, what) => {
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const r = requests.slice(from).find(pred);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`no request for ${what}`);
};

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  headless: true,
  // Root in a container has no user namespaces for the sandbox.
  chromiumSandbox: false,
});
let page;
try {
  const context = await browser.newContext({ acceptDownloads: true });
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Error answers of the API are the page's to show, not a fault ("Failed to load resource").
    if (/Failed to load resource/.test(m.text())) return;
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) {
      problems.push(`console ${m.type()}: ${m.text()}`);
    }
  });

  // The page and its headers.
  const res = await page.goto(base + '/');
  check(res.status() === 200, `GET / answered ${res.status()}`);
  const h = res.headers();
  check(h['content-type'] === 'text/html; charset=utf-8', `content-type ${h['content-type']}`);
  check((h['content-security-policy'] || '').startsWith("default-src 'self'"), `CSP ${h['content-security-policy']}`);
  check(h['x-content-type-options'] === 'nosniff', 'no nosniff');
  check(/no-cache/.test(h['cache-control'] || '') && h.etag, `cache headers ${h['cache-control']} ${h.etag}`);
  check((await page.title()) === 'ytcaption', `title ${await page.title()}`);
  log('page loaded');

  // Upload the clip through the (labelled) file input and submit.
  await page.getByLabel('Choose an audio or video file').setInputFiles(clip);
  await page.getByText(basename(clip)).first().waitFor();
  await page.getByRole('button', { name: 'Transcribe' }).click();
  await page.locator('li.job').first().waitFor();
  const jobId = await page.locator('li.job').first().getAttribute('data-job-id');
  const card = page.locator(`li.job[data-job-id="${jobId}"]`);
  check(/^[0-9a-f-]{36}$/.test(jobId || ''), `job id ${jobId}`);
  log(`submitted job ${jobId}`);

  // Live progress until the transcript shows on the page.
  const transcript = card.getByRole('region', { name: 'Transcript' });
  await transcript.locator('li').first().waitFor({ timeout: 120_000 });
  const badge = (await card.locator('.badge').textContent()).trim();
  check(badge === 'completed', `status badge ${badge}`);
  const stages = await card.locator('.stages li.done').count();
  check(stages === 4, `${stages} of 4 stages marked done`);
  const segments = await transcript.locator('li span').allTextContents();
  const times = await transcript.locator('li time').allTextContents();
  check(times.length === segments.length && times[0] === '0:00', `timestamps ${times}`);
  const pageText = segments.join(' ');
  log(`transcript on the page: ${pageText}`);
  const detail = (await card.locator('.detail').textContent()).trim();
  check(detail.startsWith('Done:'), `detail line ${detail}`);
  check(await card.locator('.error').isHidden(), 'an error shows on the completed job');

  // The SRT download link.
  const srtLink = card.getByRole('link', { name: 'SRT' });
  check(
    (await srtLink.getAttribute('href')) === `api/v1/transcriptions/${jobId}/result?format=srt`,
    `SRT link ${await srtLink.getAttribute('href')}`,
  );
  const [download] = await Promise.all([page.waitForEvent('download'), srtLink.click()]);
  check(download.suggestedFilename() === `${jobId}.srt`, `download name ${download.suggestedFilename()}`);
  const srtPath = join(out, 'download.srt');
  await download.saveAs(srtPath);
  const srt = readFileSync(srtPath, 'utf8');
  const resultReq = requests.find((r) => r.url.endsWith(`/${jobId}/result?format=srt`));
  check(resultReq, 'no request for the SRT result');
  log('SRT downloaded');

  // The queue lists the job, with the file's name, as completed.
  const row = page.locator(`#queue-rows tr[data-job-id="${jobId}"]`);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await row.locator('td.status', { hasText: 'completed' }).waitFor({ timeout: 15_000 });
  const queueSource = (await row.locator('td.source').textContent()).trim();
  check(queueSource === `${basename(clip)} (uploaded)`, `queue source ${queueSource}`);

  // A URL submitted as JSON, cancelled from its card while it downloads. Its first event
  // stream is cut after one event (written here with CRLF lines, a comment, a retry field and a
  // half event that must be dropped): the page reconnects with Last-Event-ID and reads on.
  let streams = 0;
  await page.route('**/events', async (route) => {
    if (route.request().url().endsWith(`/${jobId}/events`) || streams++ > 0) return route.continue();
    const id = route.request().url().split('/').slice(-2)[0];
    const created = { event_type: 'job_created', job_id: id, data: { priority: 'normal' } };
    await route.fulfill({
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      body: `: hello\r\nretry: 300\r\nid: 1\r\nevent: job_created\r\ndata: ${JSON.stringify(created)}\r\n\r\nid: 2\r\ndata: {"event_type": "transcription_failed"`,
    });
  });
  await page.getByLabel('Media or YouTube URL').fill(slowUrl);
  await page.getByRole('button', { name: 'Transcribe' }).click();
  await page.locator('li.job').nth(1).waitFor();
  const slowId = await page.locator('li.job').first().getAttribute('data-job-id');
  const slow = page.locator(`li.job[data-job-id="${slowId}"]`);
  await slow.locator('.badge', { hasText: 'fetching' }).waitFor({ timeout: 30_000 });
  // Reconnected, and the real stream's download_started was read.
  const again = await requested(0, (r) => r.url.endsWith(`/${slowId}/events`) && r.headers['last-event-id'], 'a reconnection');
  check(again.headers['last-event-id'] === '1', `reconnected with Last-Event-ID ${again.headers['last-event-id']}`);
  await slow.locator('.detail', { hasText: 'Fetching the media' }).waitFor({ timeout: 30_000 });
  check(slowId !== jobId, 'the URL job has its own card');
  const submitReq = requests.find((r) => r.method === 'POST' && r.headers['content-type'] === 'application/json');
  check(submitReq, 'the URL was not submitted as JSON');
  await slow.getByRole('button', { name: 'Cancel job' }).click();
  await slow.locator('.badge', { hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
  check(await slow.getByRole('button', { name: 'Cancel job' }).isHidden(), 'cancel still offered');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page
    .locator(`#queue-rows tr[data-job-id="${slowId}"] td.status`, { hasText: 'cancelled' })
    .waitFor({ timeout: 15_000 });
  check(streams >= 2, `${streams} event streams of the URL job`);
  check(await slow.locator('.error').isHidden(), 'the cut half event was shown');
  await page.unroute('**/events');
  log(`job ${slowId} cancelled`);
  const queueRows = await page.locator('#queue-rows tr').count();

  // Events came as a stream read by fetch, without a key while none is saved.
  const eventReqs = requests.filter((r) => r.url.endsWith(`/${jobId}/events`));
  check(eventReqs.length >= 1, 'no request for the job events');
  check(eventReqs.every((r) => !r.headers.authorization), 'a key was sent while none was saved');

  // A saved key is sent with every request, the event stream's too, and kept across reloads.
  // (Whether this server accepts it does not matter here: the requests are what is checked.)
  const openKeyBox = async () => {
    if ((await page.locator('#key-box').getAttribute('open')) === null) {
      await page.getByText('API key', { exact: true }).click();
    }
  };
  await openKeyBox();
  await page.getByLabel(/^API key/).fill('web-test-key');
  const keyed = requests.length;
  await page.getByRole('button', { name: 'Save key' }).click();
  await requested(keyed, (r) => r.url.includes('/api/v1/transcriptions?'), 'the queue with the key');
  await card.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: `Open job ${jobId}` }).click();
  await requested(keyed, (r) => r.url.endsWith(`/${jobId}/events`), 'the events with the key');
  const reloaded = requests.length;
  await page.reload();
  check((await page.getByLabel(/^API key/).inputValue()) === 'web-test-key', 'the key was not kept');
  await requested(reloaded, (r) => r.url.includes('/api/v1/transcriptions?'), 'the queue after a reload');
  // From the first request with the key on (a queue refresh due before the key was saved may
  // still go out without it).
  const firstKeyed = requests.findIndex((r, i) => i >= keyed && r.headers.authorization);
  check(firstKeyed >= 0, 'no request with the key');
  const afterKey = requests.slice(firstKeyed).filter((r) => r.url.includes('/api/'));
  check(afterKey.length >= 3, `${afterKey.length} API requests after the key was saved`);
  const unkeyed = afterKey.filter((r) => r.headers.authorization !== 'Bearer web-test-key');
  check(unkeyed.length === 0, `API requests without the key: ${unkeyed.map((r) => r.url)}`);
  await openKeyBox();
  await page.getByRole('button', { name: 'Forget key' }).click();
  check((await page.evaluate(() => localStorage.getItem('ytcaption.apiKey'))) === null, 'key not forgotten');

  // A browser that cannot read a stream (no TextDecoderStream here) follows jobs by long polls.
  const old = await context.newPage();
  await old.addInitScript(() => {
    delete window.TextDecoderStream;
  });
  const polled = requests.length;
  await old.goto(base + '/');
  await old.getByRole('button', { name: `Open job ${jobId}` }).click();
  await old.getByRole('region', { name: 'Transcript' }).locator('li').first().waitFor({ timeout: 30_000 });
  const oldReqs = requests.slice(polled).map((r) => r.url);
  check(oldReqs.some((u) => u.endsWith(`/${jobId}?wait=25`)), `no long poll: ${oldReqs}`);
  check(!oldReqs.some((u) => u.endsWith('/events')), 'events read without TextDecoderStream');
  await old.close();

  // Paging: nine more jobs (submitted from here, not the page) make 11, over one page of 10.
  for (let i = 0; i < 9; i++) {
    const r = await fetch(base + '/api/v1/transcriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: slowUrl, priority: 'low' }),
    });
    check(r.status === 202, `submitting job ${i}: ${r.status}`);
  }
  await page.getByRole('button', { name: 'Refresh' }).click();
  const rows = page.locator('#queue-rows tr');
  await page.getByRole('button', { name: 'Next page' }).and(page.locator(':enabled')).waitFor();
  check((await rows.count()) === 10, `${await rows.count()} rows on page 1`);
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.locator('#queue-page', { hasText: 'Page 2' }).waitFor();
  check((await rows.count()) === 1, `${await rows.count()} rows on page 2`);
  // The oldest job is last: the upload.
  check((await rows.first().getAttribute('data-job-id')) === jobId, 'page 2 is not the oldest job');
  check(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'a page after the last');
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.locator('#queue-page', { hasText: 'Page 1' }).waitFor();
  check((await rows.count()) === 10, `${await rows.count()} rows back on page 1`);
  await page.getByLabel('Status').selectOption('cancelled');
  await page.locator('#queue-caption', { hasText: '(cancelled)' }).waitFor();
  check((await rows.count()) === 1, `${await rows.count()} cancelled jobs listed`);

  // Nothing was loaded from another host, and the page broke none of its own policy.
  const foreign = requests.filter((r) => new URL(r.url).origin !== origin);
  check(foreign.length === 0, `requests to other hosts: ${foreign.map((r) => r.url)}`);
  check(problems.length === 0, problems.join('\n'));

  process.stdout.write(
    JSON.stringify({
      job_id: jobId,
      transcript: pageText,
      srt,
      queue_rows: queueRows,
      requests: requests.length,
      seconds: (Date.now() - t0) / 1000,
    }) + '\n',
  );
} catch (e) {
  process.stderr.write(`web page test failed: ${e.stack || e}\n`);
  if (problems.length) process.stderr.write(`page problems:\n${problems.join('\n')}\n`);
  if (page) {
    await page.screenshot({ path: join(out, 'failure.png'), fullPage: true }).catch(() => {});
    process.stderr.write(`screenshot: ${join(out, 'failure.png')}\n`);
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
