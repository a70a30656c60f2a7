// ytcaption's web page: submits jobs to /api/v1/transcriptions (a URL as JSON, a file as
// multipart), follows each job's events live, shows and downloads its transcript, and pages
// through the queue. No framework and no build step; every request goes to this origin with
// the API key from the key field (Authorization: Bearer), when one is saved.
'use strict';

(() => {
  const JOBS = 'api/v1/transcriptions';
  const KEY_STORE = 'ytcaption.apiKey';
  const NAMES_STORE = 'ytcaption.jobNames';
  const QUEUE_PAGE = 10;
  const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
  const STAGES = ['pending', 'downloading', 'transcribing', 'completed'];
  const STATUS_WORDS = {
    pending: 'queued',
    downloading: 'fetching',
    transcribing: 'transcribing',
    completed: 'completed',
    failed: 'failed',
    cancelled: 'cancelled',
  };

  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // ---------------------------------------------------------------- storage

  function storageGet(name) {
    try {
      return window.localStorage.getItem(name);
    } catch (_) {
      return null;
    }
  }

  function storageSet(name, value) {
    try {
      if (value === null) window.localStorage.removeItem(name);
      else window.localStorage.setItem(name, value);
    } catch (_) {
      // Storage disabled: the key lasts as long as the page.
    }
  }

  let apiKey = storageGet(KEY_STORE) || '';

  /** Names of files this browser uploaded, by job id (the API shows uploads as "upload"). */
  function jobNames() {
    try {
      return JSON.parse(storageGet(NAMES_STORE) || '{}') || {};
    } catch (_) {
      return {};
    }
  }

  function rememberName(id, name) {
    const names = jobNames();
    names[id] = name;
    const ids = Object.keys(names);
    // The newest 200 are enough.
    for (const old of ids.slice(0, Math.max(0, ids.length - 200))) delete names[old];
    storageSet(NAMES_STORE, JSON.stringify(names));
  }

  // ---------------------------------------------------------------- the API

  /** An error answer of the API (`{"error": {"code", "message"}}`) or of the network. */
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    if (apiKey) h.Authorization = 'Bearer ' + apiKey;
    return h;
  }

  async function errorOf(res) {
    let code = 'http_' + res.status;
    let message = res.status + ' ' + res.statusText;
    try {
      const body = await res.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (_) {
      // Not JSON: keep the status line.
    }
    const err = new ApiError(res.status, code, message);
    noteAuth(err);
    return err;
  }

  /** Calls the API; answers the parsed JSON, or throws an ApiError. */
  async function api(path, opts) {
    const o = Object.assign({}, opts || {});
    o.headers = authHeaders(o.headers);
    let res;
    try {
      res = await fetch(path, o);
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', 'The server did not answer (' + e.message + ')');
    }
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  function describe(err) {
    if (err instanceof ApiError) return err.message + ' (' + err.code + ')';
    return String(err && err.message ? err.message : err);
  }

  // ---------------------------------------------------------------- the key

  const banner = $('banner');

  function noteAuth(err) {
    if (err.status === 401) {
      banner.textContent = apiKey
        ? 'The server refused the API key: check it under "API key". (' + err.message + ')'
        : 'This server needs an API key: enter it under "API key". (' + err.message + ')';
      banner.hidden = false;
      $('key-box').open = true;
    } else if (err.status === 403) {
      banner.textContent = 'This API key may not do that. (' + err.message + ')';
      banner.hidden = false;
    }
  }

  function showKeyState() {
    $('key-state').textContent = apiKey
      ? 'A key is saved in this browser and sent with every request.'
      : 'No key saved: requests are sent without one.';
  }

  $('api-key').value = apiKey;
  showKeyState();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey = $('api-key').value.trim();
    storageSet(KEY_STORE, apiKey || null);
    banner.hidden = true;
    showKeyState();
    loadQueue(queue.cursors[queue.cursors.length - 1]);
  });
  $('key-forget').addEventListener('click', () => {
    apiKey = '';
    $('api-key').value = '';
    storageSet(KEY_STORE, null);
    showKeyState();
  });

  // ---------------------------------------------------------------- Server-Sent Events

  /**
   * Reads a text/event-stream body and calls `onEvent({id, type, data})` for each event, and
   * `onRetry(ms)` for each `retry:` field. Comments (`:` lines, the keep-alives) are skipped; an
   * event cut off by the end of the stream is dropped, as the SSE specification says.
   */
  async function readEventStream(body, onEvent, onRetry) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let data = [];
    let type = '';
    let id = null;
    const line = (l) => {
      if (l === '') {
        if (data.length) onEvent({ id, type: type || 'message', data: data.join('\n') });
        data = [];
        type = '';
        return;
      }
      if (l[0] === ':') return;
      const colon = l.indexOf(':');
      const field = colon < 0 ? l : l.slice(0, colon);
      let value = colon < 0 ? '' : l.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') type = value;
      else if (field === 'id' && value.indexOf('\0') < 0) id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buf);
        // A lone \r at the end may be the first half of \r\n.
        if (!m || (m[0] === '\r' && m.index === buf.length - 1)) break;
        line(buf.slice(0, m.index));
        buf = buf.slice(m.index + m[0].length);
      }
    }
  }

  // ---------------------------------------------------------------- jobs on the page

  /** Jobs shown in the Jobs list, by id. */
  const watched = new Map();

  function fmtTime(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const two = (n) => String(n).padStart(2, '0');
    return (h ? h + ':' + two(m) : String(m)) + ':' + two(s % 60);
  }

  function fmtBytes(n) {
    if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + ' GiB';
    if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB';
    if (n >= 1 << 10) return (n / (1 << 10)).toFixed(0) + ' KiB';
    return n + ' B';
  }

  function sourceText(job) {
    const src = job.source || {};
    if (src.kind === 'url') return src.url;
    const name = jobNames()[job.job_id || job.id];
    return name ? name + ' (uploaded)' : 'uploaded file';
  }

  /** The card of job `id`: made on first use, put first in the list. */
  function card(id, title) {
    let w = watched.get(id);
    if (w) return w;
    const li = $('job-template').content.firstElementChild.cloneNode(true);
    const q = (sel) => li.querySelector(sel);
    w = {
      id,
      li,
      title: q('.job-title'),
      badge: q('.badge'),
      bar: q('.bar'),
      percent: q('.percent'),
      detail: q('.detail'),
      error: q('.error'),
      cancel: q('.cancel'),
      result: q('.result'),
      segments: q('.segments'),
      status: null,
      lastEventId: null,
      retryMs: 1000,
      abort: new AbortController(),
      done: false,
      settling: false,
      loaded: false,
    };
    li.dataset.jobId = id;
    w.title.textContent = title || id;
    q('.job-id code').textContent = id;
    for (const a of li.querySelectorAll('.downloads a')) {
      const fmt = a.dataset.format;
      a.href = JOBS + '/' + encodeURIComponent(id) + '/result?format=' + fmt;
      a.download = id + '.' + fmt;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        download(w, fmt);
      });
    }
    w.cancel.addEventListener('click', () => cancelJob(w));
    q('.dismiss').addEventListener('click', () => {
      w.abort.abort();
      watched.delete(id);
      li.remove();
      $('jobs-empty').hidden = watched.size > 0;
    });
    watched.set(id, w);
    $('jobs').prepend(li);
    $('jobs-empty').hidden = true;
    setStatus(w, 'pending');
    follow(w);
    return w;
  }

  function setStatus(w, status) {
    // The queue shows statuses too.
    if (w.status !== null && w.status !== status) refreshQueueSoon();
    w.status = status;
    w.badge.textContent = STATUS_WORDS[status] || status;
    w.badge.className = 'badge ' + status;
    const at = STAGES.indexOf(status);
    for (const li of w.li.querySelectorAll('.stages li')) {
      const i = STAGES.indexOf(li.dataset.stage);
      li.classList.toggle('done', at >= 0 && i < at);
      li.classList.toggle('current', i === at && status !== 'completed');
      if (status === 'completed' && i === at) li.classList.add('done');
      if (i === at) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    }
    w.cancel.hidden = TERMINAL.has(status);
    if (status === 'completed') setProgress(w, 100);
    if (status === 'pending') setProgress(w, null);
  }

  /** `pct` 0 to 100, or null for "moving, amount unknown". */
  function setProgress(w, pct) {
    if (pct === null) {
      w.bar.removeAttribute('value');
      w.percent.textContent = '';
    } else {
      w.bar.value = Math.max(0, Math.min(100, pct));
      w.percent.textContent = Math.round(pct) + ' %';
    }
  }

  function fail(w, code, message) {
    w.error.textContent = message + (code ? ' (' + code + ')' : '');
    w.error.hidden = false;
  }

  /** Shows what one journal event says about its job. */
  function onEvent(w, ev) {
    const d = ev.data || {};
    switch (ev.event_type) {
      case 'job_created':
        setStatus(w, 'pending');
        w.detail.textContent = 'In the queue (priority ' + d.priority + ').';
        break;
      case 'download_started':
        setStatus(w, 'downloading');
        setProgress(w, null);
        w.detail.textContent = 'Fetching the media' + (d.attempt > 1 ? ' (start ' + d.attempt + ')' : '') + '…';
        break;
      case 'source_resolved':
        if (d.title) w.title.textContent = d.title;
        w.detail.textContent = 'Found' + (d.title ? ' “' + d.title + '”' : ' the media') +
          (d.duration_seconds ? ', ' + fmtTime(d.duration_seconds) : '') + '.';
        break;
      case 'download_progress':
        if (d.total_bytes) setProgress(w, (100 * d.downloaded_bytes) / d.total_bytes);
        w.detail.textContent = 'Fetched ' + fmtBytes(d.downloaded_bytes) +
          (d.total_bytes ? ' of ' + fmtBytes(d.total_bytes) : '') + '.';
        break;
      case 'download_retry':
        w.detail.textContent = 'Fetching failed (' + d.code + ': ' + d.message + '); trying again in ' +
          Math.round(d.delay_seconds) + ' s (attempt ' + d.attempt + ' of ' + d.max_attempts + ').';
        break;
      case 'cache_hit':
        w.detail.textContent = d.what === 'transcript' ? 'A cached transcript was used.' : 'Cached media was used.';
        break;
      case 'audio_ready':
        w.detail.textContent = 'Audio ready: ' + fmtTime(d.duration_seconds) + ', ' + fmtBytes(d.size_bytes) + '.';
        break;
      case 'transcription_started':
        setStatus(w, 'transcribing');
        setProgress(w, 0);
        w.detail.textContent = 'Transcribing with ' + d.model + (d.language && d.language !== 'auto' ? ' (' + d.language + ')' : '') +
          (d.resumed_chunks ? ', ' + d.resumed_chunks + ' chunks already done' : '') + '…';
        break;
      case 'transcription_progress':
        if (w.status !== 'transcribing') setStatus(w, 'transcribing');
        setProgress(w, d.percent);
        w.detail.textContent = 'Transcribed ' + fmtTime(d.processed_seconds) + ' of the audio.';
        break;
      case 'transcription_completed':
        setStatus(w, 'completed');
        w.detail.textContent = 'Done: ' + fmtTime(d.duration_seconds) + ' of ' + d.language + ' audio in ' +
          d.processing_time_seconds.toFixed(1) + ' s, ' + d.segments + ' segments.';
        break;
      case 'transcription_failed':
        setStatus(w, 'failed');
        w.detail.textContent = 'Failed on start ' + d.attempt + '.';
        fail(w, d.code, d.message);
        break;
      case 'job_cancelled':
        setStatus(w, 'cancelled');
        w.detail.textContent = 'Cancelled while ' + (STATUS_WORDS[d.from] || d.from) + '.';
        break;
      case 'job_requeued':
        setStatus(w, 'pending');
        w.detail.textContent = 'Back in the queue: ' + d.reason + '.';
        break;
      default:
        // Notifications and events of later versions: nothing to show.
        break;
    }
  }

  const ENDED = { completed: 'Done.', failed: 'Failed.', cancelled: 'Cancelled.' };

  /** Shows a job record (from a long poll, a cancel, or after a stream). */
  function applyJob(w, job) {
    if (w.status !== job.status) {
      setStatus(w, job.status);
      if (ENDED[job.status]) w.detail.textContent = ENDED[job.status];
    }
    if (job.status === 'failed' && job.error) fail(w, job.error.code, job.error.message);
    if (TERMINAL.has(job.status)) finish(w);
  }

  /** The job ended: stop following it, load its transcript when there is one. */
  function finish(w) {
    if (w.done) return;
    w.done = true;
    w.abort.abort();
    if (w.status === 'completed') loadTranscript(w);
    refreshQueueSoon();
  }

  /** Follows a job's events; falls back to long polls when streaming is not possible. */
  async function follow(w) {
    if (typeof ReadableStream === 'undefined' || typeof TextDecoderStream === 'undefined') {
      return poll(w);
    }
    const url = JOBS + '/' + encodeURIComponent(w.id) + '/events';
    let failures = 0;
    while (!w.done) {
      const headers = authHeaders({ Accept: 'text/event-stream' });
      if (w.lastEventId !== null) headers['Last-Event-ID'] = w.lastEventId;
      let streamed = false;
      try {
        const res = await fetch(url, { headers, cache: 'no-store', signal: w.abort.signal });
        if (!res.ok) {
          const err = await errorOf(res);
          // The job is gone or not ours, or the key is wrong: waiting will not help.
          if (err.status >= 400 && err.status < 500 && err.status !== 429) {
            fail(w, err.code, err.message);
            w.done = true;
            return;
          }
          throw err;
        }
        if (!res.body) return poll(w);
        await readEventStream(
          res.body,
          (e) => {
            streamed = true;
            if (e.id !== null) w.lastEventId = e.id;
            let ev;
            try {
              ev = JSON.parse(e.data);
            } catch (_) {
              return;
            }
            onEvent(w, ev);
            if (TERMINAL.has(w.status)) finish(w);
          },
          (ms) => {
            w.retryMs = ms;
          },
        );
      } catch (e) {
        if (w.done || (e && e.name === 'AbortError')) return;
        failures += 1;
      }
      if (w.done) return;
      if (streamed) failures = 0;
      // The stream ended before the job did (the server restarted, a proxy cut it, or every
      // event was already read): look at the job, then reconnect from the last event seen.
      try {
        const job = await api(JOBS + '/' + encodeURIComponent(w.id), { signal: w.abort.signal });
        if (TERMINAL.has(job.status) && !w.settling) {
          // It ended: read the events that ended it, once, before showing the record.
          w.settling = true;
          continue;
        }
        applyJob(w, job);
        if (w.done) return;
      } catch (e) {
        if (e && e.name === 'AbortError') return;
      }
      if (failures >= 3) return poll(w);
      await sleep(w.retryMs * Math.max(1, failures));
    }
  }

  /** Long polls (`?wait=`) until the job ends: statuses without the events' detail. */
  async function poll(w) {
    w.detail.textContent = 'Live events are unavailable: checking the job every so often.';
    while (!w.done) {
      try {
        const job = await api(JOBS + '/' + encodeURIComponent(w.id) + '?wait=25', { signal: w.abort.signal });
        applyJob(w, job);
      } catch (e) {
        if (e && e.name === 'AbortError') return;
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) {
          fail(w, e.code, e.message);
          return;
        }
        await sleep(3000);
      }
    }
  }

  async function loadTranscript(w) {
    if (w.loaded) return;
    w.loaded = true;
    try {
      const t = await api(JOBS + '/' + encodeURIComponent(w.id) + '/result?format=json');
      w.segments.replaceChildren();
      for (const s of t.segments || []) {
        const li = document.createElement('li');
        const time = document.createElement('time');
        time.textContent = fmtTime(s.start);
        time.dateTime = 'PT' + Number(s.start).toFixed(2) + 'S';
        const text = document.createElement('span');
        text.textContent = (s.text || '').trim();
        li.append(time, text);
        w.segments.append(li);
      }
      if (!(t.segments || []).length) {
        const li = document.createElement('li');
        li.textContent = 'No speech was found.';
        w.segments.append(li);
      }
      w.result.hidden = false;
    } catch (e) {
      w.loaded = false;
      fail(w, e.code, 'The transcript could not be loaded: ' + e.message);
    }
  }

  /** Downloads a result with the key (a plain link cannot send it). */
  async function download(w, fmt) {
    const url = JOBS + '/' + encodeURIComponent(w.id) + '/result?format=' + fmt;
    try {
      const res = await fetch(url, { headers: authHeaders() });
      if (!res.ok) throw await errorOf(res);
      const blob = await res.blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = w.id + '.' + fmt;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    } catch (e) {
      fail(w, e.code, 'The download failed: ' + e.message);
    }
  }

  async function cancelJob(w) {
    w.cancel.disabled = true;
    try {
      const job = await api(JOBS + '/' + encodeURIComponent(w.id), { method: 'DELETE' });
      applyJob(w, job);
    } catch (e) {
      fail(w, e.code, 'Could not cancel: ' + e.message);
    } finally {
      w.cancel.disabled = false;
    }
  }

  // ---------------------------------------------------------------- submitting

  const form = $('submit-form');
  const urlInput = $('url');
  const fileInput = $('file');
  const drop = $('drop');
  const submitStatus = $('submit-status');
  const uploadBar = $('upload-progress');

  function showFile() {
    const f = fileInput.files && fileInput.files[0];
    $('file-name').textContent = f ? f.name + ' (' + fmtBytes(f.size) + ')' : '';
    if (f) urlInput.value = '';
  }
  fileInput.addEventListener('change', showFile);
  urlInput.addEventListener('input', () => {
    if (urlInput.value && fileInput.value) {
      fileInput.value = '';
      showFile();
    }
  });
  for (const t of ['dragenter', 'dragover']) {
    drop.addEventListener(t, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const t of ['dragleave', 'drop']) {
    drop.addEventListener(t, () => drop.classList.remove('over'));
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) {
      fileInput.files = e.dataTransfer.files;
      showFile();
    }
  });

  /** The option fields that are set, by API name. */
  function options() {
    const o = {};
    const lang = $('language').value.trim();
    if (lang) o.language = lang;
    o.priority = $('priority').value;
    if ($('translate').checked) o.translate = true;
    const prompt = $('initial-prompt').value.trim();
    if (prompt) o.initial_prompt = prompt;
    return o;
  }

  /** Multipart upload with progress (fetch cannot report upload progress). */
  function upload(file, fields) {
    return new Promise((resolve, reject) => {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, String(v));
      fd.append('file', file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', JOBS);
      if (apiKey) xhr.setRequestHeader('Authorization', 'Bearer ' + apiKey);
      uploadBar.hidden = false;
      uploadBar.value = 0;
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) {
          uploadBar.max = e.total;
          uploadBar.value = e.loaded;
          submitStatus.textContent = 'Uploading ' + fmtBytes(e.loaded) + ' of ' + fmtBytes(e.total) + '…';
        }
      });
      xhr.addEventListener('load', () => {
        uploadBar.hidden = true;
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (_) {
          // Not JSON.
        }
        if (xhr.status >= 200 && xhr.status < 300 && body) return resolve(body);
        const err = new ApiError(
          xhr.status,
          (body && body.error && body.error.code) || 'http_' + xhr.status,
          (body && body.error && body.error.message) || 'The server answered ' + xhr.status,
        );
        noteAuth(err);
        reject(err);
      });
      xhr.addEventListener('error', () => {
        uploadBar.hidden = true;
        reject(new ApiError(0, 'network', 'The upload failed: the server did not answer'));
      });
      xhr.send(fd);
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = fileInput.files && fileInput.files[0];
    const url = urlInput.value.trim();
    submitStatus.classList.remove('bad');
    if (!file && !url) {
      submitStatus.textContent = 'Give a URL or choose a file.';
      submitStatus.classList.add('bad');
      urlInput.focus();
      return;
    }
    const button = $('submit');
    button.disabled = true;
    submitStatus.textContent = file ? 'Uploading…' : 'Submitting…';
    try {
      let job;
      if (file) {
        job = await upload(file, options());
        rememberName(job.job_id, file.name);
      } else {
        job = await api(JOBS, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(Object.assign({ url }, options())),
        });
      }
      submitStatus.textContent = 'Submitted: job ' + job.job_id + '.';
      card(job.job_id, file ? file.name : url);
      fileInput.value = '';
      urlInput.value = '';
      showFile();
      refreshQueueSoon();
    } catch (err) {
      submitStatus.textContent = 'Not submitted: ' + describe(err);
      submitStatus.classList.add('bad');
    } finally {
      button.disabled = false;
    }
  });

  // ---------------------------------------------------------------- the queue

  /** Cursors of the pages seen: the last is the current page's (null: the first page). */
  const queue = { cursors: [null], next: null, timer: null };

  function cell(row, content) {
    const td = document.createElement('td');
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    row.append(td);
    return td;
  }

  async function loadQueue(cursor) {
    const params = new URLSearchParams({ limit: String(QUEUE_PAGE) });
    const status = $('queue-status').value;
    if (status) params.set('status', status);
    if (cursor) params.set('cursor', cursor);
    let page;
    try {
      page = await api(JOBS + '?' + params.toString());
    } catch (e) {
      $('queue-caption').textContent = 'The queue could not be read: ' + describe(e);
      return;
    }
    const rows = $('queue-rows');
    rows.replaceChildren();
    for (const job of page.jobs) {
      const tr = document.createElement('tr');
      tr.dataset.jobId = job.job_id;
      const code = document.createElement('code');
      code.textContent = job.job_id.slice(0, 8);
      code.title = job.job_id;
      cell(tr, code);
      cell(tr, sourceText(job)).className = 'source';
      cell(tr, STATUS_WORDS[job.status] || job.status).className = 'status';
      cell(tr, job.priority);
      const when = document.createElement('time');
      when.dateTime = job.created_at;
      when.textContent = new Date(job.created_at).toLocaleString();
      cell(tr, when);
      const actions = document.createElement('div');
      actions.className = 'actions';
      const open = document.createElement('button');
      open.type = 'button';
      open.textContent = 'Open';
      open.setAttribute('aria-label', 'Open job ' + job.job_id);
      open.addEventListener('click', () => {
        const w = card(job.job_id, sourceText(job));
        w.li.scrollIntoView({ block: 'nearest' });
      });
      actions.append(open);
      if (!TERMINAL.has(job.status)) {
        const cancel = document.createElement('button');
        cancel.type = 'button';
        cancel.textContent = 'Cancel';
        cancel.setAttribute('aria-label', 'Cancel job ' + job.job_id);
        cancel.addEventListener('click', async () => {
          cancel.disabled = true;
          try {
            await api(JOBS + '/' + encodeURIComponent(job.job_id), { method: 'DELETE' });
          } catch (e) {
            $('queue-caption').textContent = 'Could not cancel: ' + describe(e);
          }
          refreshQueueSoon();
        });
        actions.append(cancel);
      }
      cell(tr, actions);
      rows.append(tr);
    }
    queue.next = page.next_cursor || null;
    const n = queue.cursors.length;
    $('queue-caption').textContent = page.jobs.length
      ? 'Jobs, newest first' + (status ? ' (' + status + ')' : '')
      : 'No jobs' + (status ? ' with status ' + status : '') + '.';
    $('queue-page').textContent = 'Page ' + n;
    $('queue-first').disabled = n <= 1;
    $('queue-prev').disabled = n <= 1;
    $('queue-next').disabled = !queue.next;
  }

  function refreshQueueSoon() {
    clearTimeout(queue.timer);
    queue.timer = setTimeout(() => loadQueue(queue.cursors[queue.cursors.length - 1]), 300);
  }

  $('queue-refresh').addEventListener('click', () => loadQueue(queue.cursors[queue.cursors.length - 1]));
  $('queue-status').addEventListener('change', () => {
    queue.cursors = [null];
    loadQueue(null);
  });
  $('queue-first').addEventListener('click', () => {
    queue.cursors = [null];
    loadQueue(null);
  });
  $('queue-prev').addEventListener('click', () => {
    if (queue.cursors.length > 1) queue.cursors.pop();
    loadQueue(queue.cursors[queue.cursors.length - 1]);
  });
  $('queue-next').addEventListener('click', () => {
    if (!queue.next) return;
    queue.cursors.push(queue.next);
    loadQueue(queue.next);
  });

  // The queue changes without this page: look again every 10 s while it is visible.
  setInterval(() => {
    if (document.visibilityState === 'visible') loadQueue(queue.cursors[queue.cursors.length - 1]);
  }, 10000);
  loadQueue(null);
})();
