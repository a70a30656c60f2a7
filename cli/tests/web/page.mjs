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

  // A URL submitted as JSON, cancelled from its card while it downloads.
  await page.getByLabel('Media or YouTube URL').fill(slowUrl);
  await page.getByRole('button', { name: 'Transcribe' }).click();
  await page.locator('li.job').nth(1).waitFor();
  const slowId = await page.locator('li.job').first().getAttribute('data-job-id');
  const slow = page.locator(`li.job[data-job-id="${slowId}"]`);
  await slow.locator('.badge', { hasText: 'fetching' }).waitFor({ timeout: 30_000 });
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
  const afterKey = requests.slice(keyed).filter((r) => r.url.includes('/api/'));
  check(afterKey.length >= 3, `${afterKey.length} API requests after the key was saved`);
  const unkeyed = afterKey.filter((r) => r.headers.authorization !== 'Bearer web-test-key');
  check(unkeyed.length === 0, `API requests without the key: ${unkeyed.map((r) => r.url)}`);
  await openKeyBox();
  await page.getByRole('button', { name: 'Forget key' }).click();
  check((await page.evaluate(() => localStorage.getItem('ytcaption.apiKey'))) === null, 'key not forgotten');

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
