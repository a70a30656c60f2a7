//! whisper.cpp through whisper-rs: one model (context) per transcriber, one state per
//! concurrent call, reused across calls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::whisper_log::install_log_hooks;

use super::{ProgressFn, RawTranscription, Transcriber, TranscriptionInput};
use crate::error::{Error, Result};
use crate::language::Language;
use crate::transcript::{Segment, Word};

/// The whisper.cpp transcriber. The model is loaded on first use (or by [`load`](Self::load))
/// and shared by every call; each concurrent call uses its own `WhisperState`, and states are
/// kept for reuse.
pub struct WhisperTranscriber {
    path: PathBuf,
    name: String,
    threads: usize,
    ctx: OnceCell<Arc<WhisperContext>>,
    states: Mutex<Vec<WhisperState>>,
    /// Bounds the threads of the whisper calls that run at once (all jobs of the process that
    /// share this transcriber): permits are threads, with the budget's size; `None`: unbounded
    /// (each caller bounds its own calls).
    gate: Option<(Arc<Semaphore>, usize)>,
}

/// Busy whisper.cpp threads in this process now, and the most there have been: every call of
/// every [`WhisperTranscriber`] adds its threads while it runs.
static BUSY_THREADS: AtomicUsize = AtomicUsize::new(0);
static PEAK_BUSY_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The most whisper.cpp threads that have run at once in this process (transcription and
/// language detection calls of every [`WhisperTranscriber`], each counted with its thread
/// count). A diagnostic: the thread budget ([`Settings::thread_plan`](crate::Settings::thread_plan))
/// keeps it at or under the cores.
pub fn peak_busy_threads() -> usize {
    PEAK_BUSY_THREADS.load(Ordering::Relaxed)
}

/// Counts `n` busy threads while alive.
struct Busy(usize);

impl Busy {
    fn new(n: usize) -> Busy {
        let now = BUSY_THREADS.fetch_add(n, Ordering::SeqCst) + n;
        PEAK_BUSY_THREADS.fetch_max(now, Ordering::SeqCst);
        Busy(n)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY_THREADS.fetch_sub(self.0, Ordering::SeqCst);
    }
}

impl WhisperTranscriber {
    /// A transcriber for the ggml model at `path`, using `threads` threads per call.
    ///
    /// Fails with [`Error::ModelNotFound`] when the file does not exist; the model itself is
    /// read on first use.
    pub fn new(path: impl Into<PathBuf>, threads: usize) -> Result<Self> {
        let path = path.into();
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                hint: "pass --model PATH, set YTCAPTION_MODEL, or run `ytcaption model download tiny.en`".into(),
                path,
            });
        }
        install_log_hooks();
        Ok(WhisperTranscriber {
            name: model_name_from_path(&path),
            path,
            threads: threads.max(1),
            ctx: OnceCell::new(),
            states: Mutex::new(Vec::new()),
            gate: None,
        })
    }

    /// The same transcriber running at most `n` whisper calls at once (further calls wait for
    /// one to finish), so that jobs sharing it stay within a thread budget: see
    /// [`Settings::thread_plan`](crate::Settings::thread_plan). The bound is kept as a budget of
    /// `n ×` [`threads`](Self::threads) threads: a call with a
    /// [`thread_share`](crate::transcribe::TranscriptionInput::thread_share) of `k` takes `k ×` threads
    /// from it (at most all of it), so it runs with more threads, never more than the budget.
    pub fn with_concurrent_calls(mut self, n: usize) -> Self {
        let budget = n.max(1) * self.threads;
        self.gate = Some((Arc::new(Semaphore::new(budget)), budget));
        self
    }

    /// Waits for the threads of a call with `share` (see
    /// [`with_concurrent_calls`](Self::with_concurrent_calls)): the threads to run it with and
    /// the permit that holds them.
    async fn turn(&self, share: usize) -> Result<(usize, Option<OwnedSemaphorePermit>)> {
        match &self.gate {
            None => Ok((self.threads, None)),
            Some((g, budget)) => {
                let threads = (self.threads * share.max(1)).min(*budget).max(1);
                g.clone()
                    .acquire_many_owned(threads as u32)
                    .await
                    .map(|p| (threads, Some(p)))
                    .map_err(|e| Error::transcription_with("the transcriber is closed", e))
            }
        }
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Threads per call.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Loads the model now (otherwise it is loaded on first use).
    pub async fn load(&self) -> Result<Arc<WhisperContext>> {
        self.ctx
            .get_or_try_init(|| async {
                let path = self.path.clone();
                let t = std::time::Instant::now();
                let ctx = tokio::task::spawn_blocking(move || load_context(&path))
                    .await
                    .map_err(|e| Error::transcription_with("model loading panicked", e))?
                    .map(Arc::new)?;
                metrics::gauge!(crate::metrics::MODEL_LOAD).set(t.elapsed().as_secs_f64());
                Ok(ctx)
            })
            .await
            .cloned()
    }

    fn take_state(&self, ctx: &WhisperContext) -> Result<WhisperState> {
        if let Some(s) = self.states.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(s);
        }
        ctx.create_state()
            .map_err(|e| Error::transcription_with("cannot create a whisper state", e))
    }

    /// Whisper states kept for the next calls (one per call that ran at once, less those
    /// replaced after a temperature fallback).
    pub fn idle_states(&self) -> usize {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn put_state(&self, state: WhisperState) {
        self.states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(state);
    }
}

fn load_context(path: &Path) -> Result<WhisperContext> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let mut head = [0u8; 4];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        if meta.len() < 4
            || f.read_exact(&mut head).is_err()
            || u32::from_le_bytes(head) != 0x6767_6d6c
        {
            return Err(Error::ModelInvalid {
                message: format!(
                    "{} is not a whisper.cpp ggml model (bad magic); convert faster-whisper models with `ytcaption model import`",
                    path.display()
                ),
            });
        }
    }
    let path_str = path
        .to_str()
        .ok_or_else(|| Error::invalid(format!("model path {} is not UTF-8", path.display())))?;
    let params = WhisperContextParameters::default();
    WhisperContext::new_with_params(path_str, params).map_err(|e| Error::ModelInvalid {
        message: format!("whisper.cpp could not load {}: {e}", path.display()),
    })
}

/// `…/ggml-tiny.en.bin` → `tiny.en`; other names lose only their extension.
pub(crate) fn model_name_from_path(path: &Path) -> String {
    let stem = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.strip_suffix(".bin").unwrap_or(&stem);
    stem.strip_prefix("ggml-").unwrap_or(stem).to_string()
}

fn check_language_for(ctx: &WhisperContext, name: &str, language: &Language) -> Result<()> {
    if !ctx.is_multilingual() {
        if let Some(code) = language.code() {
            if code != "en" {
                return Err(Error::invalid(format!(
                    "the model {name} is English-only and cannot transcribe {} ({code}); use a multilingual model such as base or small",
                    Language::name_of(code).unwrap_or(code)
                )));
            }
        }
    }
    Ok(())
}

#[async_trait]
impl Transcriber for WhisperTranscriber {
    fn model_name(&self) -> String {
        self.name.clone()
    }

    async fn check_language(&self, language: &Language) -> Result<()> {
        let ctx = self.load().await?;
        check_language_for(&ctx, &self.name, language)
    }

    async fn detect_language(&self, samples: Arc<Vec<f32>>) -> Result<(String, f32)> {
        let ctx = self.load().await?;
        if !ctx.is_multilingual() {
            return Ok(("en".into(), 1.0));
        }
        if samples.is_empty() {
            return Err(Error::NoAudio {
                message: "no samples to detect the language from".into(),
            });
        }
        let (threads, turn) = self.turn(1).await?;
        let mut state = self.take_state(&ctx)?;
        let (state, res) = crate::spans::spawn_blocking(move || {
            let _busy = Busy::new(threads);
            let n = samples.len().min(30 * 16000);
            let r = state
                .pcm_to_mel(&samples[..n], threads)
                .and_then(|_| state.lang_detect(0, threads))
                .map_err(|e| Error::transcription_with("language detection failed", e));
            (state, r)
        })
        .await
        .map_err(|e| Error::transcription_with("whisper.cpp panicked", e))?;
        drop(turn);
        self.put_state(state);
        let (id, probs) = res?;
        let code = whisper_rs::get_lang_str(id).unwrap_or("en").to_string();
        let p = probs.get(id as usize).copied().unwrap_or(0.0);
        Ok((code, p))
    }

    async fn transcribe(
        &self,
        input: TranscriptionInput,
        progress: ProgressFn,
        cancel: CancellationToken,
    ) -> Result<RawTranscription> {
        input.options.validate()?;
        let ctx = self.load().await?;
        check_language_for(&ctx, &self.name, &input.language)?;
        if input.samples.is_empty() {
            return Ok(RawTranscription::new(
                Vec::new(),
                input.language.code().unwrap_or("en"),
            ));
        }
        // The prompt as tokens, handed to whisper.cpp by pointer for the call: whisper-rs's
        // `set_initial_prompt` panics on a NUL byte and leaks its C string on every call.
        let prompt_tokens = match input.options.initial_prompt.as_deref() {
            Some(p) if !p.is_empty() => ctx
                .tokenize(p, p.len() + 8)
                .map_err(|e| Error::invalid(format!("initial_prompt cannot be tokenized: {e}")))?,
            _ => Vec::new(),
        };
        let (threads, turn) = self.turn(input.thread_share).await?;
        let mut state = self.take_state(&ctx)?;
        let multilingual = ctx.is_multilingual();
        let eot = ctx.token_eot();
        let (state, result, widened) = crate::spans::spawn_blocking(move || {
            let _busy = Busy::new(threads);
            let watch = DecoderWatch::default();
            let r = run_full(
                &mut state,
                &input,
                &prompt_tokens,
                threads,
                multilingual,
                eot,
                progress,
                cancel,
                &watch,
            );
            (state, r, watch.widened.load(Ordering::Relaxed))
        })
        .await
        .map_err(|e| Error::transcription_with("whisper.cpp panicked", e))?;
        drop(turn);
        if widened {
            // whisper.cpp grew the state's self-attention cache sevenfold for the sampled
            // candidates of a temperature fallback (22 MB for tiny, 44 MB for base) and keeps it
            // until the state is freed: a long input, where every state falls back some time,
            // held that in each (3 hours, tiny.en q8_0, two states: 278–298 MB peak against 252
            // MB with `best_of` 1). A new state costs a few milliseconds.
            tracing::debug!("whisper fell back to sampled candidates: its state is replaced");
            drop(state);
        } else {
            self.put_state(state);
        }
        result
    }
}

/// Whether a call decoded with several candidates at once: greedy decoding falls back to
/// `best_of` sampled ones at a higher temperature, for which whisper.cpp grows the state's
/// self-attention cache (and keeps it). Seen through the logits callback, which whisper.cpp calls
/// for each candidate at each token with the candidate's tokens so far: one candidate's count
/// grows by one from call to call; several candidates give the same count twice in a row.
struct DecoderWatch {
    /// The token count of the last call (-1: none yet).
    last_tokens: AtomicI32,
    widened: AtomicBool,
}

impl Default for DecoderWatch {
    fn default() -> Self {
        DecoderWatch {
            last_tokens: AtomicI32::new(-1),
            widened: AtomicBool::new(false),
        }
    }
}

unsafe extern "C" fn logits_watch_trampoline(
    _ctx: *mut whisper_rs_sys::whisper_context,
    _state: *mut whisper_rs_sys::whisper_state,
    _tokens: *const whisper_rs_sys::whisper_token_data,
    n_tokens: std::ffi::c_int,
    _logits: *mut f32,
    user_data: *mut std::ffi::c_void,
) {
    // SAFETY: whisper.cpp passes back the pointer installed in `run_window`, which points to a
    // live `DecoderWatch` for as long as `full` runs (whisper.cpp may call this from several
    // threads at once: the watch is atomics only).
    let watch = unsafe { &*(user_data as *const DecoderWatch) };
    if watch.last_tokens.swap(n_tokens, Ordering::Relaxed) == n_tokens && n_tokens > 0 {
        watch.widened.store(true, Ordering::Relaxed);
    }
}

/// What whisper.cpp's abort callback looks at.
struct AbortFlag {
    token: CancellationToken,
    aborted: AtomicBool,
}

/// Samples in one whisper window (30 s).
const WINDOW_SAMPLES: usize = 30 * 16_000;
/// Samples per encoder position (20 ms): a 30 s window has 1500.
const SAMPLES_PER_FRAME: usize = 320;
/// Encoder positions of a full window.
const FULL_WINDOW_FRAMES: usize = 1500;
/// Silence after the audio in a window sized to it (1 s; with none whisper lost words at the
/// end of the window). Every position costs: on the benches' mixed set (16 s chunks, two runs
/// each) 2 s → 1 s and windows rounded to 16 positions instead of 64 took base q8_0 from
/// 18.4–18.6 s to 16.7–17.5 s wall and tiny.en q8_0 from 10.1–10.2 s to 9.5–9.8 s, WER
/// 0.019 → 0.017 and 0.023 → 0.020.
const WINDOW_MARGIN_FRAMES: usize = 50;
/// Windows are a whole number of these positions: ggml's tiled f16 products (the encoder's
/// attention) take a window of a multiple of 16; rounding to 64 cost up to 48 more.
const WINDOW_STEP_FRAMES: usize = 16;
/// The smallest window (10.2 s). Short jobs are mostly encoder time, and the encoder's cost
/// follows the window: 200 jobs of 5-15 s (benches/short_jobs.sh, tiny.en q8_0, 2 workers)
/// took 38.4 s with this floor against 48.3 s with a 15.4 s one, at the same WER (0.048).
/// Lower is not safe: in a 7.7 s window for 5.5 s of speech whisper said the first phrase
/// twice (the 60-minute test of cli/tests/it/memory.rs, with Silero VAD, counted 35 phrases
/// for 24); at 10.2 s it counts 24.
const MIN_WINDOW_FRAMES: usize = 512;
/// The window a short input is decoded in again when whisper repeated itself in a smaller
/// one (15.4 s: no repeats in that test, nor in any other suite).
const SAFE_WINDOW_FRAMES: usize = 768;

/// Encoder positions of the window for `samples` samples decoded as one window: the audio,
/// 1 s of silence after it, rounded up to a multiple of 16, at least `floor`.
fn window_frames(samples: usize, floor: usize) -> usize {
    let frames = samples.div_ceil(SAMPLES_PER_FRAME) + WINDOW_MARGIN_FRAMES;
    (frames.div_ceil(WINDOW_STEP_FRAMES) * WINDOW_STEP_FRAMES).max(floor)
}

/// Whether whisper's text repeats itself back to back: a segment the same as the one before
/// it, or a run of three or more words said twice in a row (words compared in lower case,
/// punctuation left out). A sign of the decoding loops that small windows bring out; a
/// speaker who really says a phrase twice only costs a second decoding.
fn repeats_itself(segments: &[Segment]) -> bool {
    let norm = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let per_segment: Vec<Vec<String>> = segments.iter().map(|s| norm(&s.text)).collect();
    if per_segment
        .windows(2)
        .any(|p| !p[0].is_empty() && p[0] == p[1])
    {
        return true;
    }
    let words: Vec<&String> = per_segment.iter().flatten().collect();
    (3..=words.len() / 2)
        .any(|n| (0..=words.len() - 2 * n).any(|i| words[i..i + n] == words[i + n..i + 2 * n]))
}

unsafe extern "C" fn abort_trampoline(user_data: *mut std::ffi::c_void) -> bool {
    // SAFETY: whisper.cpp passes back the pointer installed in `run_window`, which points to a
    // live `AbortFlag` for as long as `full` runs.
    let flag = unsafe { &*(user_data as *const AbortFlag) };
    let stop = flag.token.is_cancelled();
    if stop {
        flag.aborted.store(true, Ordering::Relaxed);
    }
    stop
}

/// Counts whisper.cpp's encoder runs of one `full` call; only the first may run when the
/// input is transcribed as a single window.
struct WindowLimit {
    encodes: std::sync::atomic::AtomicUsize,
}

unsafe extern "C" fn encoder_begin_trampoline(
    _ctx: *mut whisper_rs::WhisperSysContext,
    _state: *mut whisper_rs::WhisperSysState,
    user_data: *mut std::ffi::c_void,
) -> bool {
    // SAFETY: whisper.cpp passes back the pointer installed in `run_window`, which points to a
    // live `WindowLimit` for as long as `full` runs.
    let limit = unsafe { &*(user_data as *const WindowLimit) };
    limit.encodes.fetch_add(1, Ordering::Relaxed) == 0
}

unsafe extern "C" fn progress_trampoline(
    _ctx: *mut whisper_rs::WhisperSysContext,
    _state: *mut whisper_rs::WhisperSysState,
    percent: std::ffi::c_int,
    user_data: *mut std::ffi::c_void,
) {
    // SAFETY: whisper.cpp passes back the pointer installed in `run_window`, which points to a
    // live `ProgressFn` for as long as `full` runs.
    let progress = unsafe { &*(user_data as *const ProgressFn) };
    progress(percent.clamp(0, 100) as f32 / 100.0);
}

/// The sampling strategy of a whisper call: beam search (its width) or greedy (`best_of`).
type StrategyKey = (bool, i32);

/// whisper-rs's `FullParams::set_language` turns its text into a C string it never frees, on
/// every call. The parameters with the strategy and language set are therefore made once per
/// (language, strategy) for the life of the process — at most about 100 languages × 31
/// strategies, a few bytes each — and cloned for each call.
fn base_params(lang: &'static str, key: StrategyKey) -> FullParams<'static, 'static> {
    type Templates = HashMap<(&'static str, StrategyKey), FullParams<'static, 'static>>;
    static TEMPLATES: OnceLock<Mutex<Templates>> = OnceLock::new();
    let mut t = TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    t.entry((lang, key))
        .or_insert_with(|| {
            let strategy = match key {
                (true, beam_size) => SamplingStrategy::BeamSearch {
                    beam_size,
                    patience: -1.0,
                },
                (false, best_of) => SamplingStrategy::Greedy { best_of },
            };
            let mut p = FullParams::new(strategy);
            p.set_language(Some(lang));
            p
        })
        .clone()
}

/// One `full` call over the input; a short input decoded as a single window is decoded in a
/// window sized to it (at least [`MIN_WINDOW_FRAMES`]), and again in a
/// [`SAFE_WINDOW_FRAMES`] one when its text [repeats itself](repeats_itself) there.
#[allow(clippy::too_many_arguments)]
fn run_full(
    state: &mut WhisperState,
    input: &TranscriptionInput,
    prompt_tokens: &[std::ffi::c_int],
    threads: usize,
    multilingual: bool,
    eot: i32,
    progress: ProgressFn,
    cancel: CancellationToken,
    watch: &DecoderWatch,
) -> Result<RawTranscription> {
    let mut pass = |progress, floor| {
        run_window(
            state,
            input,
            prompt_tokens,
            threads,
            multilingual,
            eot,
            progress,
            cancel.clone(),
            floor,
            watch,
        )
    };
    let first = pass(progress, MIN_WINDOW_FRAMES)?;
    let small = sized_window(input, MIN_WINDOW_FRAMES).is_some_and(|f| f < SAFE_WINDOW_FRAMES);
    if !small || !repeats_itself(&first.segments) {
        return Ok(first);
    }
    tracing::debug!(
        seconds = input.samples.len() as f64 / 16_000.0,
        "whisper repeated itself in a small window: decoding it again in a 15.4 s one"
    );
    // Progress already reached 1.0; the second pass reports nothing.
    pass(Arc::new(|_| {}), SAFE_WINDOW_FRAMES)
}

/// The encoder positions of the window sized to `input` (at least `floor`) when it is decoded
/// as a single window and fits in one; `None` otherwise.
fn sized_window(input: &TranscriptionInput, floor: usize) -> Option<usize> {
    (input.single_window && input.samples.len() <= WINDOW_SAMPLES)
        .then(|| window_frames(input.samples.len(), floor))
}

/// [`run_full`]'s one `full` call, with windows sized to a single-window input at least
/// `min_frames` long.
#[allow(clippy::too_many_arguments)]
fn run_window(
    state: &mut WhisperState,
    input: &TranscriptionInput,
    prompt_tokens: &[std::ffi::c_int],
    threads: usize,
    multilingual: bool,
    eot: i32,
    progress: ProgressFn,
    cancel: CancellationToken,
    min_frames: usize,
    watch: &DecoderWatch,
) -> Result<RawTranscription> {
    let o = &input.options;
    let key = match o.beam_size {
        Some(b) if b > 1 => (true, b as i32),
        _ => (false, o.best_of as i32),
    };
    let lang = if multilingual {
        input.language.code().unwrap_or("auto")
    } else {
        "en"
    };
    let mut params: FullParams<'_, '_> = base_params(lang, key);
    params.set_n_threads(threads as i32);
    params.set_translate(o.translate);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_token_timestamps(true);
    params.set_temperature(o.temperature);
    params.set_temperature_inc(o.temperature_increment);
    params.set_no_speech_thold(o.no_speech_threshold);
    params.set_entropy_thold(o.entropy_threshold);
    params.set_logprob_thold(o.logprob_threshold);
    if !o.condition_on_previous_text {
        // Each 30 s window is decoded on its own: no prompt of the previous window's text,
        // which made whisper repeat earlier sentences over new speech (and costs decoder time).
        params.set_n_max_text_ctx(0);
    }
    if !prompt_tokens.is_empty() {
        // Borrowed for the call; whisper.cpp reads it as it would its own tokenized prompt.
        params.set_tokens(prompt_tokens);
    }
    // whisper-rs 0.16's `set_abort_callback_safe` hands whisper.cpp a pointer of the wrong
    // type (its trampoline casts a boxed trait object to the closure type), so the callback is
    // installed by hand; `abort` lives on this stack frame until `full` returns. The progress
    // callback too: `set_progress_callback_safe` leaks its boxed closure on every call.
    // SAFETY: `progress_trampoline` matches whisper.cpp's progress callback signature and reads
    // the user data only as a `ProgressFn`; `progress` outlives the `full` call below.
    unsafe {
        params.set_progress_callback(Some(progress_trampoline));
        params.set_progress_callback_user_data(
            &progress as *const ProgressFn as *mut std::ffi::c_void,
        );
    }
    let abort = AbortFlag {
        token: cancel.clone(),
        aborted: AtomicBool::new(false),
    };
    // SAFETY: `abort_trampoline` matches ggml's abort callback signature and reads the user
    // data only as an `AbortFlag`; `abort` outlives the `full` call below, the only user.
    unsafe {
        params.set_abort_callback(Some(abort_trampoline));
        params.set_abort_callback_user_data(&abort as *const AbortFlag as *mut std::ffi::c_void);
    }
    if !key.0 {
        // Beam search decodes with `beam_size` candidates from the start, the same cache in
        // every call; greedy decoding grows it only in a fallback, which the watch reports.
        // SAFETY: `logits_watch_trampoline` matches whisper.cpp's logits filter callback
        // signature, leaves the logits alone and reads the user data only as a `DecoderWatch`,
        // which outlives the `full` call below.
        unsafe {
            params.set_filter_logits_callback(Some(logits_watch_trampoline));
            params.set_filter_logits_callback_user_data(
                watch as *const DecoderWatch as *mut std::ffi::c_void,
            );
        }
    }
    let limit = WindowLimit {
        encodes: std::sync::atomic::AtomicUsize::new(0),
    };
    if let Some(frames) = sized_window(input, min_frames) {
        // The encoder's cost grows with its context (attention quadratically): a window sized
        // to the input plus 1 s of silence instead of 30 s. Measured on 363 s of English
        // (tiny.en q8_0, 26 s chunks, 2 s of silence): 7.4 s → 6.0 s wall at the same WER
        // (0.016); without the silence after the audio, whisper lost words at the end of the
        // window.
        if frames < FULL_WINDOW_FRAMES {
            params.set_audio_ctx(frames as i32);
        }
        // whisper.cpp runs the encoder again from the last timestamp when the decoder stopped
        // before the end of the audio: a whole window of compute, mostly for the silence after
        // the last words. The caller finds any speech that was really left out.
        // SAFETY: the trampoline matches whisper.cpp's encoder-begin callback signature and
        // reads the user data only as a `WindowLimit`, which outlives the `full` call below.
        unsafe {
            params.set_start_encoder_callback(Some(encoder_begin_trampoline));
            params.set_start_encoder_callback_user_data(
                &limit as *const WindowLimit as *mut std::ffi::c_void,
            );
        }
    }
    if cancel.is_cancelled() {
        return Err(Error::Cancelled { job_id: None });
    }
    let started = std::time::Instant::now();
    let res = state.full(params, &input.samples);
    tracing::trace!(
        seconds = input.samples.len() as f64 / 16_000.0,
        window = sized_window(input, min_frames).filter(|&f| f < FULL_WINDOW_FRAMES),
        encodes = limit.encodes.load(Ordering::Relaxed),
        ms = started.elapsed().as_millis() as u64,
        "whisper call"
    );
    if abort.aborted.load(Ordering::Relaxed) || cancel.is_cancelled() {
        return Err(Error::Cancelled { job_id: None });
    }
    res.map_err(|e| Error::transcription_with("whisper.cpp failed", e))?;
    let mut segments = Vec::new();
    for (i, seg) in state.as_iter().enumerate() {
        let text = seg
            .to_str_lossy()
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        if is_silence_marker(&text) {
            continue;
        }
        let mut s = Segment::new(
            i as u32,
            seg.start_timestamp() as f64 / 100.0,
            seg.end_timestamp() as f64 / 100.0,
            text,
        );
        s.no_speech_prob = Some(seg.no_speech_probability());
        s.words = words_of(&seg, eot);
        segments.push(s);
    }
    let language = if multilingual {
        let id = state.full_lang_id_from_state();
        whisper_rs::get_lang_str(id)
            .unwrap_or(input.language.code().unwrap_or("en"))
            .to_string()
    } else {
        "en".to_string()
    };
    progress(1.0);
    Ok(RawTranscription::new(segments, language))
}

/// Groups a segment's text tokens into words (a token starting with a space starts a word).
fn words_of(seg: &whisper_rs::WhisperSegment<'_>, eot: i32) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    for i in 0..seg.n_tokens() {
        let Some(tok) = seg.get_token(i) else {
            continue;
        };
        if tok.token_id() >= eot {
            continue; // special and timestamp tokens
        }
        let text = tok
            .to_str_lossy()
            .map(|t| t.into_owned())
            .unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        let data = tok.token_data();
        let (t0, t1) = (data.t0 as f64 / 100.0, data.t1 as f64 / 100.0);
        match words.last_mut() {
            Some(w) if !text.starts_with(' ') => {
                w.text.push_str(&text);
                w.end = w.end.max(t1);
            }
            _ => words.push(Word::new(t0, t1.max(t0), text, data.p)),
        }
    }
    words
}

/// Whether whisper's segment text only marks silence (`[BLANK_AUDIO]`, `[ Silence ]`, ...): such
/// segments are not speech and are left out of transcripts.
fn is_silence_marker(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    let inner = match (t.chars().next(), t.chars().last()) {
        (Some('['), Some(']')) | (Some('('), Some(')')) => &t[1..t.len() - 1],
        _ => return false,
    };
    let norm: String = inner
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    matches!(norm.as_str(), "blankaudio" | "silence" | "nospeech")
}

#[cfg(test)]
mod tests {
    #[test]
    fn silence_markers_are_recognised() {
        for t in ["[BLANK_AUDIO]", " [ Silence ] ", "(silence)", ""] {
            assert!(super::is_silence_marker(t), "{t}");
        }
        for t in ["[Music]", "Hello.", "[BLANK_AUDIO] hello"] {
            assert!(!super::is_silence_marker(t), "{t}");
        }
    }

    use super::*;

    fn segs(texts: &[&str]) -> Vec<Segment> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Segment::new(i as u32, i as f64, i as f64 + 1.0, t.to_string()))
            .collect()
    }

    #[test]
    fn repeats_are_found_back_to_back_only() {
        // What a 7.7 s window gave in the 60-minute memory test.
        assert!(repeats_itself(&segs(&[
            "And so my fellow Americans asked not",
            "and so my fellow Americans asked not",
            "what your country can do for you.",
        ])));
        assert!(repeats_itself(&segs(&["Yes.", "yes!"])));
        assert!(repeats_itself(&segs(&[
            "ask what you can, ask what you can do for your country"
        ])));
        // Phrases said again later, not back to back; two-word echoes; nothing at all.
        assert!(!repeats_itself(&segs(&[
            "And so, my fellow Americans, ask not what your country can do for you,",
            "ask what you can do for your country.",
        ])));
        assert!(!repeats_itself(&segs(&["very very good, that that is"])));
        assert!(!repeats_itself(&segs(&["", "", "Hello."])));
        assert!(!repeats_itself(&[]));
    }

    #[test]
    fn windows_fit_the_audio_between_the_floor_and_a_full_window() {
        // 5.5 s: 275 positions + 50 of silence, rounded up to 336, raised to the floor.
        assert_eq!(window_frames(88_000, MIN_WINDOW_FRAMES), 512);
        assert_eq!(window_frames(88_000, SAFE_WINDOW_FRAMES), 768);
        // 12 s: 600 + 50 → 656.
        assert_eq!(window_frames(12 * 16_000, MIN_WINDOW_FRAMES), 656);
        // 20 s (the longest default chunk): 1000 + 50 → 1056.
        assert_eq!(window_frames(20 * 16_000, MIN_WINDOW_FRAMES), 1056);
        // 28.5 s: 1425 + 50 → 1488, under a full window.
        assert_eq!(window_frames(456_000, MIN_WINDOW_FRAMES), 1488);
        assert_eq!(window_frames(0, MIN_WINDOW_FRAMES) % 16, 0);
    }

    #[test]
    fn names_from_paths() {
        assert_eq!(
            model_name_from_path(Path::new("/m/ggml-tiny.en.bin")),
            "tiny.en"
        );
        assert_eq!(model_name_from_path(Path::new("custom.bin")), "custom");
        assert_eq!(
            model_name_from_path(Path::new("ggml-base-q8_0.bin")),
            "base-q8_0"
        );
    }

    #[test]
    fn missing_model_is_typed() {
        let err = WhisperTranscriber::new("/nonexistent/ggml-x.bin", 1)
            .err()
            .unwrap();
        assert_eq!(err.code(), "model_not_found");
        assert!(err.to_string().contains("ytcaption model download"));
    }

    #[tokio::test]
    async fn not_a_model_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ggml-fake.bin");
        std::fs::write(&p, b"hello, I am not a model").unwrap();
        let t = WhisperTranscriber::new(&p, 1).unwrap();
        let err = t.load().await.err().unwrap();
        assert_eq!(err.code(), "model_invalid");
    }
}
