//! Event callbacks: a library thread reads the live event stream and calls the C function.

use std::ffi::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio_util::sync::CancellationToken;
use ytcaption::{Event, EventStream};

use crate::ffi::{cstring, runtime, Failure};

/// One event, as handed to a `ytc_event_callback`. Every string is UTF-8 and valid only during
/// the call: copy what you keep.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ytc_event {
    /// What happened: `"job_created"`, `"download_started"`, `"audio_ready"`,
    /// `"transcription_started"`, `"transcription_progress"`, `"chunk_transcribed"`,
    /// `"transcription_completed"`, `"transcription_failed"`, `"job_cancelled"` or
    /// `"job_requeued"`.
    pub event_type: *const c_char,
    /// The job's id (36 characters; one-shot transcriptions get a fresh id per call).
    pub job_id: *const c_char,
    /// The event's data as a JSON object, e.g. `{"percent":42.0,"processed_seconds":4.6}`.
    pub data: *const c_char,
    /// The whole event envelope as one line of JSON (`event_id`, `event_type`, `job_id`,
    /// `timestamp`, `version`, `correlation_id`, `causation_id`, `data`).
    pub json: *const c_char,
}

/// Receives events: called on a thread of the library (never the caller's), one event at a
/// time and in order, with the `userdata` given when it was set. It may call library functions,
/// including replacing or clearing its own callback. It must not throw C++ exceptions or
/// `longjmp` out, and should return soon: later events wait for it, a subscriber more than 4096
/// events behind skips the oldest, and `ytc_*_free` or a callback change on another thread
/// waits for the call in progress to return.
pub type ytc_event_callback =
    Option<unsafe extern "C" fn(event: *const ytc_event, userdata: *mut c_void)>;

/// The caller's pointer, handed back on the delivery thread as the API documents.
struct UserData(*mut c_void);

// SAFETY: the library only passes the pointer back to the caller's callback; the API tells the
// caller that this happens on a library thread.
unsafe impl Send for UserData {}

impl UserData {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// A running delivery thread.
struct Delivery {
    stop: CancellationToken,
    thread: JoinHandle<()>,
}

impl Delivery {
    fn start(
        mut stream: EventStream,
        callback: unsafe extern "C" fn(*const ytc_event, *mut c_void),
        userdata: UserData,
    ) -> Result<Delivery, Failure> {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ytcaption-events".into())
            .spawn(move || loop {
                // Wait on the runtime, but call C outside `block_on`, so that the callback may
                // call blocking library functions.
                let next = runtime().block_on(async {
                    tokio::select! {
                        biased;
                        _ = token.cancelled() => None,
                        ev = stream.recv() => ev,
                    }
                });
                let Some(ev) = next else { break };
                if token.is_cancelled() {
                    break;
                }
                let _ = catch_unwind(AssertUnwindSafe(|| deliver(callback, userdata.get(), &ev)));
            })
            .map_err(|e| ytcaption::Error::io("starting the event thread", e))?;
        Ok(Delivery { stop, thread })
    }

    /// Stops delivering: no call starts after this returns, and none is in progress unless this
    /// runs on the delivery thread itself (a callback clearing itself).
    fn stop(self) {
        self.stop.cancel();
        if self.thread.thread().id() != std::thread::current().id() {
            let _ = self.thread.join();
        }
    }
}

fn deliver(
    callback: unsafe extern "C" fn(*const ytc_event, *mut c_void),
    userdata: *mut c_void,
    ev: &Event,
) {
    let event_type = cstring(ev.event_type());
    let job_id = cstring(&ev.job_id.to_string());
    let data = cstring(&ev.data().to_string());
    let json = cstring(&ev.to_json());
    let event = ytc_event {
        event_type: event_type.as_ptr(),
        job_id: job_id.as_ptr(),
        data: data.as_ptr(),
        json: json.as_ptr(),
    };
    // SAFETY: the caller registered this function with this userdata; the strings outlive the
    // call.
    unsafe { callback(&event, userdata) };
}

/// The callback slot of a pipeline or an engine.
#[derive(Default)]
pub(crate) struct Subscription {
    slot: Mutex<Option<Delivery>>,
}

impl Subscription {
    /// Replaces the callback: the old one (if any) is stopped first; `None` only clears it. The
    /// new one sees every event published after this returns.
    pub(crate) fn set(
        &self,
        callback: ytc_event_callback,
        userdata: *mut c_void,
        subscribe: impl FnOnce() -> EventStream,
    ) -> Result<(), Failure> {
        // Stop outside the lock: the old callback may be blocked on this very slot.
        self.clear();
        let Some(callback) = callback else {
            return Ok(());
        };
        let new = Delivery::start(subscribe(), callback, UserData(userdata))?;
        let previous = self.lock().replace(new);
        // Another thread set a callback meanwhile: the last one set wins.
        if let Some(p) = previous {
            p.stop();
        }
        Ok(())
    }

    /// Stops delivering events (see [`Delivery::stop`]).
    pub(crate) fn clear(&self) {
        let old = self.lock().take();
        if let Some(old) = old {
            old.stop();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Delivery>> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.clear();
    }
}
