//! The `Engine` class: one loaded model for one-shot transcriptions, without a journal.

use napi_derive::napi;
use ytcaption as yc;

use crate::error::Outcome;
use crate::events::{EventCallback, Listeners, Subscription};
use crate::transcript::Transcript;
use crate::types::{EngineOptions, TranscribeOptions};

/// A model ready for one-shot transcriptions (no journal, nothing stored). Reuse one engine
/// to avoid loading the model for every file.
#[napi]
pub struct Engine {
    inner: yc::Engine,
    listeners: Listeners,
}

/// Opens an engine on the model that `options` names (resolved by the core).
pub fn open_engine(options: &EngineOptions) -> yc::Result<yc::Engine> {
    options.open()
}

#[napi]
impl Engine {
    /// Opens an engine: `model` is a ggml file or a model name installed in `home`
    /// (default: `$YTCAPTION_MODEL`, else the home's default model). The model is read on
    /// the first transcription.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub async fn open(options: Option<EngineOptions>) -> Outcome<Engine> {
        Outcome(
            open_engine(&options.unwrap_or_default()).map(|inner| Engine {
                inner,
                listeners: Listeners::default(),
            }),
        )
    }

    /// Transcribes a file (or URL) now; resolves to its `Transcript`.
    #[napi(ts_return_type = "Promise<Transcript>")]
    pub async fn transcribe(
        &self,
        input: String,
        options: Option<TranscribeOptions>,
    ) -> Outcome<Transcript> {
        let engine = self.inner.clone();
        Outcome(
            async move {
                let opts = options.unwrap_or_default().to_core()?;
                engine.transcribe(&input, &opts).await.map(Transcript::from)
            }
            .await,
        )
    }

    /// Calls `callback` with every event of this engine's transcriptions, in order (one-shot
    /// runs report `audio_ready`, `transcription_started`, `transcription_progress`,
    /// `chunk_transcribed` and, on failure, `transcription_failed`). The listener keeps Node running until
    /// `unsubscribe()` or `close()`; one that throws raises an uncaught exception.
    #[napi(ts_args_type = "callback: (event: JobEvent) => void")]
    pub fn on_event(&self, callback: EventCallback) -> Subscription {
        self.listeners.add(self.inner.subscribe(), callback)
    }

    /// Ends every listener; resolves once each has been called with every event published
    /// before. The engine can still transcribe.
    #[napi]
    pub async fn close(&self) {
        self.listeners.close_all().await;
    }
}
