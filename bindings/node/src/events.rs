//! Live events: a task per listener reads the core's event stream and hands each event to
//! JavaScript through a non-blocking threadsafe function.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Unknown;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ytcaption as yc;

use crate::types::JobEvent;

/// A JavaScript `(event: JobEvent) => void`, callable from any thread. It keeps Node running
/// while its listener is subscribed; unsubscribing (or closing the pipeline) releases it.
pub type EventCallback =
    ThreadsafeFunction<JobEvent, Unknown<'static>, JobEvent, Status, false, false, 0>;

/// A running listener: how to stop it, and its task.
type Listener = (CancellationToken, JoinHandle<()>);

/// The listeners of one pipeline or engine.
#[derive(Clone, Default)]
pub struct Listeners {
    tasks: Arc<Mutex<Vec<Listener>>>,
}

/// Counts the events handed to JavaScript and those its callback has returned from.
#[derive(Default)]
struct Delivery {
    sent: AtomicU64,
    done: AtomicU64,
    changed: Notify,
}

impl Delivery {
    /// Queues `ev` for the callback (never blocks: the queue is unbounded). A callback that
    /// throws raises an uncaught exception, as an `EventEmitter` listener would.
    fn send(self: &Arc<Self>, callback: &EventCallback, ev: yc::Event) {
        self.sent.fetch_add(1, Ordering::SeqCst);
        let me = self.clone();
        let status = callback.call_with_return_value(
            JobEvent::from(ev),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |returned, _env| {
                me.finished();
                returned.map(drop)
            },
        );
        if status != Status::Ok {
            // Not queued: Node is shutting down.
            self.finished();
        }
    }

    fn finished(&self) {
        self.done.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Waits until the callback has returned for every queued event.
    async fn flushed(&self) {
        loop {
            let changed = self.changed.notified();
            if self.done.load(Ordering::SeqCst) >= self.sent.load(Ordering::SeqCst) {
                return;
            }
            changed.await;
        }
    }
}

impl Listeners {
    /// Starts forwarding `stream` to `callback`, in order, until the subscription ends or the
    /// stream closes.
    pub fn add(&self, mut stream: yc::EventStream, callback: EventCallback) -> Subscription {
        let token = CancellationToken::new();
        let stop = token.clone();
        let delivery = Arc::new(Delivery::default());
        let task = napi::bindgen_prelude::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = stop.cancelled() => {
                        // Deliver what was published before the end.
                        while let Some(ev) = stream.try_recv() {
                            delivery.send(&callback, ev);
                        }
                        break;
                    }
                    ev = stream.recv() => match ev {
                        Some(ev) => delivery.send(&callback, ev),
                        None => break,
                    },
                }
            }
            delivery.flushed().await;
            // Dropping `callback` releases the threadsafe function: Node may exit.
        });
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|(_, t)| !t.is_finished());
        tasks.push((token.clone(), task));
        Subscription { token }
    }

    /// Ends every subscription and resolves once the events published before have been
    /// delivered (every listener has returned for each of them).
    pub async fn close_all(&self) {
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for (token, task) in tasks {
            token.cancel();
            let _ = task.await;
        }
    }
}

/// A listener registered with `onEvent()`.
#[napi]
pub struct Subscription {
    token: CancellationToken,
}

#[napi]
impl Subscription {
    /// Stops the listener (events already published are still delivered) and lets Node exit.
    /// Idempotent.
    #[napi]
    pub fn unsubscribe(&self) {
        self.token.cancel();
    }

    /// Whether `unsubscribe()` was called (or the pipeline or engine closed).
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.token.is_cancelled()
    }
}
