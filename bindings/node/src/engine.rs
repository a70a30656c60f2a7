//! The `Engine` class: one loaded model for one-shot transcriptions, without a journal.

use napi_derive::napi;
use ytcaption as yc;

use crate::error::Outcome;
use crate::events::{EventCallback, Listeners, Subscription};
use crate::options::{self, JsOptions, Takes};
use crate::transcript::Transcript;

/// A model ready for one-shot transcriptions (no journal, nothing stored). Reuse one engine
/// to avoid loading the model for every file.
#[napi]
pub struct Engine {
    inner: yc::Engine,
    listeners: Listeners,
}

#[napi]
impl Engine {
    /// Opens an engine: `model` is a ggml file or a model name installed in `home`
    /// (default: `$YTCAPTION_MODEL`, else the home's default model). The model is read on
    /// the first transcription. A bad value rejects with `invalid_input` naming the option.
    #[napi(
        ts_args_type = "options?: EngineOptions | undefined | null",
        ts_return_type = "Promise<Engine>"
    )]
    pub async fn open(options: Option<JsOptions>) -> Outcome<Engine> {
        Outcome((|| {
            let [e] = options.unwrap_or_default().split([Takes::Engine])?;
            Ok(Engine {
                inner: options::settings(e)?.open_engine()?,
                listeners: Listeners::default(),
            })
        })())
    }

    /// Transcribes a file (or URL) now; resolves to its `Transcript`.
    #[napi(
        ts_args_type = "input: string, options?: TranscribeOptions | undefined | null",
        ts_return_type = "Promise<Transcript>"
    )]
    pub async fn transcribe(
        &self,
        input: String,
        options: Option<JsOptions>,
    ) -> Outcome<Transcript> {
        let engine = self.inner.clone();
        Outcome(
            async move {
                let opts = options::transcribe_only(options)?;
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
