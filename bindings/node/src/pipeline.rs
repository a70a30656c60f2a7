//! The `Pipeline` class: durable jobs in a journal, run by workers, with live events.

use std::sync::{Arc, Mutex};

use napi_derive::napi;
use ytcaption as yc;

use crate::error::Outcome;
use crate::events::{EventCallback, Listeners, Subscription};
use crate::options::{self, JsOptions, Takes};
use crate::transcript::Transcript;
use crate::types::{Job, JobEvent, ListOptions, WaitOptions};

/// A durable transcription service inside your program: `submit()` writes a job into the
/// journal (on disk, in the home), workers run it, `wait()` resolves to its transcript. A job
/// left running by a process that died goes back to the queue when the home is opened again.
///
/// One process at a time owns a home; `close()` releases it.
#[napi]
pub struct Pipeline {
    inner: Arc<Mutex<Option<yc::Pipeline>>>,
    listeners: Listeners,
    home: String,
}

impl Pipeline {
    /// The open pipeline, or `closed`.
    fn get_open(&self) -> yc::Result<yc::Pipeline> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(yc::Error::Closed)
    }
}

fn job_id(id: &str) -> yc::Result<yc::JobId> {
    id.parse()
}

#[napi]
impl Pipeline {
    /// Opens the home's journal (recovering jobs a dead process left running) and starts the
    /// workers. Rejects with `journal_locked` while another pipeline has the home open, and
    /// with `model_not_found` when workers need a model and none is found, and a bad value
    /// with `invalid_input` naming the option.
    #[napi(
        ts_args_type = "options?: PipelineOptions | undefined | null",
        ts_return_type = "Promise<Pipeline>"
    )]
    pub async fn open(options: Option<JsOptions>) -> Outcome<Pipeline> {
        Outcome(
            async {
                let [s] = options.unwrap_or_default().split([Takes::Pipeline])?;
                let b = yc::PipelineBuilder::from_settings(options::settings(s)?);
                let p = b.build().await?;
                Ok(Pipeline {
                    home: p.home().root().display().to_string(),
                    inner: Arc::new(Mutex::new(Some(p))),
                    listeners: Listeners::default(),
                })
            }
            .await,
        )
    }

    /// The home directory (journal, results, models).
    #[napi(getter)]
    pub fn home(&self) -> String {
        self.home.clone()
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Validates the request and writes a pending job (or returns the job its idempotency
    /// key already names). `options` takes the transcription options (`language`,
    /// `beamSize`, ...) and the job's (`priority`, `idempotencyKey`, ...).
    #[napi(
        ts_args_type = "input: string, options?: TranscribeOptions & SubmitOptions",
        ts_return_type = "Promise<Job>"
    )]
    pub async fn submit(&self, input: String, options: Option<JsOptions>) -> Outcome<Job> {
        Outcome(
            async {
                let p = self.get_open()?;
                let [fields] = options.unwrap_or_default().split([Takes::Request])?;
                p.submit(options::job_request(input, fields)?)
                    .await
                    .map(Job::from)
            }
            .await,
        )
    }

    /// The job with this id (rejects with `job_not_found`).
    #[napi(ts_return_type = "Promise<Job>")]
    pub async fn get(&self, id: String) -> Outcome<Job> {
        Outcome(
            async {
                let p = self.get_open()?;
                p.get(job_id(&id)?).await.map(Job::from)
            }
            .await,
        )
    }

    /// Jobs, optionally only those in one status and at most `limit` (newest first).
    #[napi(ts_return_type = "Promise<Array<Job>>")]
    pub async fn list(&self, filter: Option<ListOptions>) -> Outcome<Vec<Job>> {
        Outcome(
            async {
                let p = self.get_open()?;
                let f = filter.unwrap_or_default().to_core()?;
                Ok(p.list(&f).await?.into_iter().map(Job::from).collect())
            }
            .await,
        )
    }

    /// Cancels a job that has not ended (a running transcription stops within a second);
    /// resolves to the cancelled job. Rejects with `illegal_transition` when it already ended.
    #[napi(ts_return_type = "Promise<Job>")]
    pub async fn cancel(&self, id: String) -> Outcome<Job> {
        Outcome(
            async {
                let p = self.get_open()?;
                p.cancel(job_id(&id)?).await.map(Job::from)
            }
            .await,
        )
    }

    /// Waits until the job ends and resolves to its transcript. Rejects with `job_failed`
    /// (the message carries the job's own error code), `cancelled`, or `timeout` after
    /// `timeoutSeconds`.
    #[napi(ts_return_type = "Promise<Transcript>")]
    pub async fn wait(&self, id: String, options: Option<WaitOptions>) -> Outcome<Transcript> {
        Outcome(
            async {
                let p = self.get_open()?;
                let timeout = options.unwrap_or_default().timeout()?;
                p.wait(job_id(&id)?, timeout).await.map(Transcript::from)
            }
            .await,
        )
    }

    /// The stored transcript of a completed job.
    #[napi(ts_return_type = "Promise<Transcript>")]
    pub async fn result(&self, id: String) -> Outcome<Transcript> {
        Outcome(
            async {
                let p = self.get_open()?;
                p.result(job_id(&id)?).await.map(Transcript::from)
            }
            .await,
        )
    }

    /// A job's events, in order, from the journal.
    #[napi(ts_return_type = "Promise<Array<JobEvent>>")]
    pub async fn events(&self, id: String) -> Outcome<Vec<JobEvent>> {
        Outcome(
            async {
                let p = self.get_open()?;
                Ok(p.events(job_id(&id)?)
                    .await?
                    .into_iter()
                    .map(JobEvent::from)
                    .collect())
            }
            .await,
        )
    }

    /// Transcribes a file now with this pipeline's model, without a job.
    #[napi(
        ts_args_type = "input: string, options?: TranscribeOptions | undefined | null",
        ts_return_type = "Promise<Transcript>"
    )]
    pub async fn transcribe(
        &self,
        input: String,
        options: Option<JsOptions>,
    ) -> Outcome<Transcript> {
        Outcome(
            async {
                let p = self.get_open()?;
                let o = options::transcribe_only(options)?;
                p.transcribe(&input, &o).await.map(Transcript::from)
            }
            .await,
        )
    }

    /// Whether no job is pending or running.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn is_idle(&self) -> Outcome<bool> {
        Outcome(
            async {
                let p = self.get_open()?;
                p.is_idle().await
            }
            .await,
        )
    }

    /// Calls `callback` with every event of every job (and one-shot run) of this pipeline,
    /// in order, as it happens (from a threadsafe function: never blocking the pipeline). The
    /// listener keeps Node running until `unsubscribe()` or `close()`; one that throws raises
    /// an uncaught exception. Throws `closed` after `close()`.
    #[napi(
        ts_args_type = "callback: (event: JobEvent) => void",
        ts_return_type = "Subscription"
    )]
    pub fn on_event(&self, callback: EventCallback) -> Outcome<Subscription> {
        Outcome(
            self.get_open()
                .map(|p| self.listeners.add(p.subscribe(), callback)),
        )
    }

    /// Stops the workers (running jobs go back to the queue, to resume in the next pipeline
    /// on this home), ends the listeners and releases the home. Resolves once every listener
    /// has been called with every event published before. Idempotent; every other method then
    /// rejects with `closed`.
    #[napi]
    pub async fn close(&self) {
        let p = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(p) = &p {
            p.close().await;
        }
        self.listeners.close_all().await;
        drop(p);
    }
}
