//! What every stage of one run shares, handed to the stage functions as an argument (no stage
//! reaches back into the [`Engine`](super::Engine)).

use std::sync::Arc;

use tokio::sync::broadcast;

use super::{EngineConfig, RunSpec, Sink};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::JobStatus;
use crate::transcribe::Transcriber;

/// One run: the job, where its events go, and the engine's transcriber and configuration.
pub(crate) struct RunContext<'a> {
    /// The job and its options.
    pub spec: &'a RunSpec<'a>,
    /// Where the run's events are recorded.
    pub sink: &'a dyn Sink,
    /// The engine's live channel: recorded events are published there.
    pub events: &'a broadcast::Sender<Event>,
    /// The engine's configuration.
    pub config: &'a EngineConfig,
    /// The engine's transcriber.
    pub transcriber: &'a Arc<dyn Transcriber>,
}

impl RunContext<'_> {
    /// Sends a recorded event to live subscribers (none listening is fine).
    pub fn publish(&self, ev: &Event) {
        crate::metrics::record_event(ev);
        let _ = self.events.send(ev.clone());
    }

    /// Records an event that changes no state, then publishes it.
    pub async fn record(&self, kind: EventKind) -> Result<()> {
        let ev = self.sink.event(kind).await?;
        self.publish(&ev);
        Ok(())
    }

    /// Records a state change with its event, then publishes it.
    pub async fn transition(&self, to: JobStatus, kind: EventKind) -> Result<()> {
        let ev = self.sink.transition(to, kind).await?;
        self.publish(&ev);
        Ok(())
    }

    /// The error of a run stopped by its cancellation token.
    pub fn cancelled(&self) -> Error {
        Error::Cancelled {
            job_id: Some(self.spec.job_id.to_string()),
        }
    }
}
