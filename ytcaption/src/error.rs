//! The one error type of ytcaption.
//!
//! Every failure the library reports is an [`Error`]. Each variant has a stable machine-readable
//! [`code`](Error::code) (snake_case, never renamed once released) and a message a person can act
//! on. The bindings map this enum exactly once each (Python exception classes, JS `err.code`,
//! the C `ytc_status` enum), so adding a variant is a deliberate change across all of them.

use std::path::PathBuf;

/// Shorthand for `Result<T, ytcaption::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error a plugin or a library may hand over as the cause of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in ytcaption.
///
/// Match on [`Error::code`] (or on the variant) to branch; show `to_string()` to people.
///
/// An error caused by another one (an I/O error, an HTTP client's, a plugin's own error type)
/// keeps it: [`std::error::Error::source`] walks the chain, so a plugin's error can be found
/// again with `downcast_ref`. Build such errors with the `*_with` constructors
/// ([`Error::store_with`], [`Error::download_with`], [`Error::transcription_with`],
/// [`Error::journal_with`], [`Error::notify_with`]). The message (`to_string()`) also
/// carries the cause's text, because the bindings pass on the message only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or option is invalid (bad language code, unknown format, bad URL...).
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong, in words.
        message: String,
    },

    /// The input file does not exist.
    #[error("input not found: {}", path.display())]
    InputNotFound {
        /// The path that was asked for.
        path: PathBuf,
    },

    /// The input file exists but holds no bytes.
    #[error("input is empty: {}", path.display())]
    EmptyInput {
        /// The empty file.
        path: PathBuf,
    },

    /// The input is not a media container or stream ytcaption can read.
    #[error("unsupported format: {message}")]
    UnsupportedFormat {
        /// What was found instead.
        message: String,
    },

    /// The container is readable but its audio codec is not supported.
    #[error("unsupported audio codec: {codec}")]
    UnsupportedCodec {
        /// The codec's name or id.
        codec: String,
    },

    /// The media is damaged or truncated.
    #[error("could not decode audio: {message}")]
    Decode {
        /// What went wrong while decoding.
        message: String,
    },

    /// The input holds no audio samples (zero-length stream).
    #[error("no audio in input: {message}")]
    NoAudio {
        /// Details.
        message: String,
    },

    /// Fetching the input failed (network, HTTP status, YouTube errors...).
    #[error("download failed ({kind}): {message}")]
    Download {
        /// Which kind of failure, also the error's stable code.
        kind: DownloadErrorKind,
        /// Details for a person.
        message: String,
        /// The underlying error, when one library or plugin error caused this one (walk it with
        /// [`std::error::Error::source`]; its text is already part of `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// The Whisper model file does not exist.
    #[error("model not found: {} ({hint})", path.display())]
    ModelNotFound {
        /// The path that was looked at.
        path: PathBuf,
        /// How to get a model.
        hint: String,
    },

    /// The model file (or the model being imported) is not a valid Whisper model.
    #[error("invalid model: {message}")]
    ModelInvalid {
        /// What is wrong with it.
        message: String,
    },

    /// whisper.cpp failed while transcribing.
    #[error("transcription failed: {message}")]
    Transcription {
        /// Details from whisper.cpp.
        message: String,
        /// The underlying error, when one library or plugin error caused this one (walk it with
        /// [`std::error::Error::source`]; its text is already part of `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// The work was cancelled.
    #[error("{} was cancelled", job_id.as_deref().map(|j| format!("job {j}")).unwrap_or_else(|| "the transcription".into()))]
    Cancelled {
        /// The cancelled job, when there is one.
        job_id: Option<String>,
    },

    /// No job has this id.
    #[error("job not found: {job_id}")]
    JobNotFound {
        /// The id that was asked for.
        job_id: String,
    },

    /// The job ended in `failed`; its error is carried along.
    #[error("job {job_id} failed: [{code}] {message}")]
    JobFailed {
        /// The failed job.
        job_id: String,
        /// The stable code of the error that failed the job.
        code: String,
        /// Its message.
        message: String,
    },

    /// The job's worker died on too many starts in a row that made no progress (a job that
    /// kills its worker at the same point every time). Starts that made progress are not
    /// counted.
    #[error(
        "job {job_id}: its process died on {attempts} starts in a row that made no progress \
         (no new chunk checkpoint, no stage an earlier start had not reached); giving up"
    )]
    AttemptsExhausted {
        /// The job.
        job_id: String,
        /// Starts in a row that ended without progress (the job's `stalled_starts`).
        attempts: u32,
    },

    /// A job state change that the lifecycle does not allow (e.g. cancelling a completed job).
    #[error("job {job_id}: cannot go from {from} to {to}")]
    IllegalTransition {
        /// The job.
        job_id: String,
        /// Its current status.
        from: String,
        /// The status that was asked for.
        to: String,
    },

    /// Another process holds the journal.
    #[error("the journal at {} is in use by another ytcaption process{}; stop it or use another --home", path.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    JournalLocked {
        /// The journal directory.
        path: PathBuf,
        /// The process id that holds it, when known.
        pid: Option<u32>,
    },

    /// The journal failed (disk, corruption...).
    #[error("journal error: {message}")]
    Journal {
        /// Details.
        message: String,
        /// The underlying error, when one library or plugin error caused this one (walk it with
        /// [`std::error::Error::source`]; its text is already part of `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// Reading or writing results failed.
    #[error("store error: {message}")]
    Store {
        /// Details.
        message: String,
        /// The underlying error, when one library or plugin error caused this one (walk it with
        /// [`std::error::Error::source`]; its text is already part of `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// A store key was refused (`..`, absolute path, control characters).
    #[error("invalid store key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why it was refused.
        reason: String,
    },

    /// A notification could not be delivered.
    #[error("notification failed: {message}")]
    Notify {
        /// Details.
        message: String,
        /// The underlying error, when one library or plugin error caused this one (walk it with
        /// [`std::error::Error::source`]; its text is already part of `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// Waiting took longer than allowed.
    #[error("timed out after {seconds:.1} s")]
    Timeout {
        /// The limit that was reached.
        seconds: f64,
    },

    /// The pipeline was shut down.
    #[error("the pipeline is closed")]
    Closed,

    /// The result store refused the credentials (wrong key, no permission on the bucket).
    #[error("store access denied: {message}")]
    StoreAccessDenied {
        /// What the store said.
        message: String,
        /// The underlying error, when one library or plugin error caused this one (walk it with
        /// [`std::error::Error::source`]; its text is already part of `message`).
        #[source]
        source: Option<BoxError>,
    },

    /// A webhook URL was refused: not http(s), unresolvable, or it points at a loopback,
    /// private, link-local, CGNAT, multicast, unspecified or cloud-metadata address that the
    /// allowlist does not admit.
    #[error("webhook URL {url:?} refused: {reason}")]
    WebhookRefused {
        /// The URL.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// An idempotency key was used again with a different request (another source, language,
    /// priority, webhook or decoding options): the first job is kept and nothing is created.
    #[error("idempotency key {key:?} was already used for job {job_id} with a different request; use a new key for a new request")]
    IdempotencyConflict {
        /// The key.
        key: String,
        /// The job the key names.
        job_id: String,
    },

    /// The job ran longer than the pipeline's `job_timeout_seconds`: it was stopped and failed.
    #[error("the job ran longer than its limit of {seconds:.0} s and was stopped")]
    JobTimeout {
        /// The limit that was reached.
        seconds: f64,
    },

    /// Something inside ytcaption failed that should not (a worker task panicked): the job
    /// fails with this code and the message, and the worker goes on with the next job.
    #[error("internal error: {message}")]
    Internal {
        /// What happened (a panic's message).
        message: String,
    },

    /// An operating-system I/O error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The kinds of download failure, each with its own stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DownloadErrorKind {
    /// Connection, DNS, TLS or timeout trouble (transient).
    Network,
    /// The server answered with an HTTP error status.
    HttpStatus,
    /// The server asked us to slow down (429) (transient).
    RateLimited,
    /// The media is larger or longer than allowed.
    TooLarge,
    /// The URL served something that is not media (an HTML page, say).
    NotMedia,
    /// The kind of source is not supported by the configured downloader.
    UnsupportedSource,
    /// The downloaded file's checksum differs from the published one (the file was discarded).
    ChecksumMismatch,
    /// The server failed (HTTP 5xx) (transient).
    ServerError,
    /// The YouTube video is private.
    VideoPrivate,
    /// The YouTube video needs a signed-in, age-verified account.
    AgeRestricted,
    /// The video is not available from this machine's country.
    GeoBlocked,
    /// The video is for the channel's paying members only.
    MembersOnly,
    /// The URL is a live stream or a premiere that has not ended; only finished videos are
    /// transcribed.
    LiveNotSupported,
    /// The video was removed, deleted or never existed.
    VideoUnavailable,
    /// The `yt-dlp` program was not found (YouTube needs it).
    YtDlpMissing,
    /// `yt-dlp` failed in a way ytcaption does not recognise (its message is kept).
    YtDlpFailed,
    /// Too many recent transient failures for this host: the circuit breaker is open and the
    /// call failed fast without touching the network (transient: retry after the cool-down).
    CircuitOpen,
    /// The egress policy refused the destination: a non-public address (loopback, private,
    /// link-local, cloud metadata...) that the `allow_network` allowlist does not admit, a
    /// redirect into one, or a redirect from https to http. Nothing was connected to.
    DestinationRefused,
    /// The whole download (every attempt and redirect, yt-dlp included) took longer than the
    /// `download_timeout_seconds` deadline: a slow-drip server cannot hold a worker.
    Deadline,
}

impl DownloadErrorKind {
    /// The stable code string.
    pub fn code(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::HttpStatus => "http_status",
            Self::RateLimited => "rate_limited",
            Self::TooLarge => "too_large",
            Self::NotMedia => "not_media",
            Self::UnsupportedSource => "unsupported_source",
            Self::ChecksumMismatch => "checksum_mismatch",
            Self::ServerError => "server_error",
            Self::VideoPrivate => "video_private",
            Self::AgeRestricted => "age_restricted",
            Self::GeoBlocked => "geo_blocked",
            Self::MembersOnly => "members_only",
            Self::LiveNotSupported => "live_not_supported",
            Self::VideoUnavailable => "video_unavailable",
            Self::YtDlpMissing => "yt_dlp_missing",
            Self::YtDlpFailed => "yt_dlp_failed",
            Self::CircuitOpen => "circuit_open",
            Self::DestinationRefused => "destination_refused",
            Self::Deadline => "download_timeout",
        }
    }

    /// Every kind, in the order of their codes in [`ERROR_CODES`].
    pub const ALL: [DownloadErrorKind; 19] = [
        Self::Network,
        Self::HttpStatus,
        Self::RateLimited,
        Self::TooLarge,
        Self::NotMedia,
        Self::UnsupportedSource,
        Self::ChecksumMismatch,
        Self::ServerError,
        Self::VideoPrivate,
        Self::AgeRestricted,
        Self::GeoBlocked,
        Self::MembersOnly,
        Self::LiveNotSupported,
        Self::VideoUnavailable,
        Self::YtDlpMissing,
        Self::YtDlpFailed,
        Self::CircuitOpen,
        Self::DestinationRefused,
        Self::Deadline,
    ];

    /// Whether a retry may succeed: network trouble, rate limits, server errors, an open
    /// circuit breaker (after its cool-down).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::Network | Self::RateLimited | Self::ServerError | Self::CircuitOpen
        )
    }

    /// Whether the failure says something about the host's health (and so counts against its
    /// circuit breaker): network trouble, rate limits and server errors. A user's own problem
    /// (a private video, a 404, a file too large) never does.
    pub fn counts_against_host(self) -> bool {
        matches!(self, Self::Network | Self::RateLimited | Self::ServerError)
    }
}

impl std::fmt::Display for DownloadErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// The stable, machine-readable code of this error (snake_case).
    ///
    /// ```
    /// let e = ytcaption::Error::JobNotFound { job_id: "x".into() };
    /// assert_eq!(e.code(), "job_not_found");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid_input",
            Error::InputNotFound { .. } => "input_not_found",
            Error::EmptyInput { .. } => "empty_input",
            Error::UnsupportedFormat { .. } => "unsupported_format",
            Error::UnsupportedCodec { .. } => "unsupported_codec",
            Error::Decode { .. } => "decode_failed",
            Error::NoAudio { .. } => "no_audio",
            Error::Download { kind, .. } => kind.code(),
            Error::ModelNotFound { .. } => "model_not_found",
            Error::ModelInvalid { .. } => "model_invalid",
            Error::Transcription { .. } => "transcription_failed",
            Error::Cancelled { .. } => "cancelled",
            Error::JobNotFound { .. } => "job_not_found",
            Error::JobFailed { .. } => "job_failed",
            Error::AttemptsExhausted { .. } => "attempts_exhausted",
            Error::IllegalTransition { .. } => "illegal_transition",
            Error::JournalLocked { .. } => "journal_locked",
            Error::Journal { .. } => "journal_error",
            Error::Store { .. } => "store_error",
            Error::InvalidKey { .. } => "invalid_key",
            Error::Notify { .. } => "notify_failed",
            Error::Timeout { .. } => "timeout",
            Error::Closed => "closed",
            Error::Io { .. } => "io_error",
            Error::StoreAccessDenied { .. } => "store_access_denied",
            Error::WebhookRefused { .. } => "webhook_refused",
            Error::JobTimeout { .. } => "job_timeout",
            Error::Internal { .. } => "internal_error",
            Error::IdempotencyConflict { .. } => "idempotency_conflict",
        }
    }

    /// The broad family of this error, used by the bindings to pick an exception class.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::InvalidInput { .. } | Error::InvalidKey { .. } => ErrorCategory::InvalidInput,
            Error::InputNotFound { .. } | Error::EmptyInput { .. } => ErrorCategory::InvalidInput,
            Error::UnsupportedFormat { .. }
            | Error::UnsupportedCodec { .. }
            | Error::Decode { .. }
            | Error::NoAudio { .. } => ErrorCategory::Decode,
            Error::Download { .. } => ErrorCategory::Download,
            Error::ModelNotFound { .. } | Error::ModelInvalid { .. } => ErrorCategory::Model,
            Error::Transcription { .. } => ErrorCategory::Transcription,
            Error::Cancelled { .. } => ErrorCategory::Cancelled,
            Error::JobNotFound { .. } => ErrorCategory::JobNotFound,
            Error::JobFailed { .. } | Error::AttemptsExhausted { .. } => ErrorCategory::JobFailed,
            Error::IllegalTransition { .. } => ErrorCategory::InvalidState,
            Error::JournalLocked { .. } | Error::Journal { .. } => ErrorCategory::Journal,
            Error::Store { .. } => ErrorCategory::Store,
            Error::Notify { .. } => ErrorCategory::Notify,
            Error::Timeout { .. } => ErrorCategory::Timeout,
            Error::Closed => ErrorCategory::InvalidState,
            Error::Io { .. } => ErrorCategory::Io,
            Error::StoreAccessDenied { .. } => ErrorCategory::Store,
            Error::WebhookRefused { .. } => ErrorCategory::InvalidInput,
            Error::JobTimeout { .. } => ErrorCategory::Timeout,
            Error::Internal { .. } => ErrorCategory::JobFailed,
            Error::IdempotencyConflict { .. } => ErrorCategory::InvalidState,
        }
    }

    /// Whether retrying the same operation may succeed (network trouble, rate limits).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Download { kind, .. } => kind.is_transient(),
            Error::Timeout { .. } => true,
            _ => false,
        }
    }

    /// Builds an [`Error::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
        }
    }

    /// Builds an [`Error::Io`] with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Builds an [`Error::Journal`].
    pub fn journal(message: impl std::fmt::Display) -> Self {
        Error::Journal {
            message: message.to_string(),
            source: None,
        }
    }

    /// Builds an [`Error::Journal`] caused by `source`: the message is
    /// `"{context}: {source}"` and [`source()`](std::error::Error::source) returns `source`.
    pub fn journal_with(context: impl std::fmt::Display, source: impl Into<BoxError>) -> Self {
        let (message, source) = with_source(context, source);
        Error::Journal { message, source }
    }

    /// Builds an [`Error::Store`].
    pub fn store(message: impl std::fmt::Display) -> Self {
        Error::Store {
            message: message.to_string(),
            source: None,
        }
    }

    /// Builds an [`Error::Store`] caused by `source` (a store plugin's own error, say): the
    /// message is `"{context}: {source}"` and [`source()`](std::error::Error::source) returns
    /// `source`.
    ///
    /// ```
    /// use std::error::Error as _;
    /// let io = std::io::Error::other("disk full");
    /// let e = ytcaption::Error::store_with("put 1/transcript.srt failed", io);
    /// assert_eq!(e.code(), "store_error");
    /// assert_eq!(e.to_string(), "store error: put 1/transcript.srt failed: disk full");
    /// assert!(e.source().unwrap().downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn store_with(context: impl std::fmt::Display, source: impl Into<BoxError>) -> Self {
        let (message, source) = with_source(context, source);
        Error::Store { message, source }
    }

    /// Builds an [`Error::StoreAccessDenied`] caused by `source`: the message is
    /// `"{context}: {source}"`.
    pub fn store_access_denied_with(
        context: impl std::fmt::Display,
        source: impl Into<BoxError>,
    ) -> Self {
        let (message, source) = with_source(context, source);
        Error::StoreAccessDenied { message, source }
    }

    /// Builds an [`Error::Download`] of this kind.
    pub fn download(kind: DownloadErrorKind, message: impl std::fmt::Display) -> Self {
        Error::Download {
            kind,
            message: message.to_string(),
            source: None,
        }
    }

    /// Builds an [`Error::Download`] of this kind caused by `source` (an HTTP client's error,
    /// say): the message is `"{context}: {source}"`. Whether it is retried depends on `kind`
    /// ([`DownloadErrorKind::is_transient`]).
    pub fn download_with(
        kind: DownloadErrorKind,
        context: impl std::fmt::Display,
        source: impl Into<BoxError>,
    ) -> Self {
        let (message, source) = with_source(context, source);
        Error::Download {
            kind,
            message,
            source,
        }
    }

    /// Builds an [`Error::Transcription`].
    pub fn transcription(message: impl std::fmt::Display) -> Self {
        Error::Transcription {
            message: message.to_string(),
            source: None,
        }
    }

    /// Builds an [`Error::Transcription`] caused by `source` (a speech-to-text library's
    /// error, say): the message is `"{context}: {source}"`.
    pub fn transcription_with(
        context: impl std::fmt::Display,
        source: impl Into<BoxError>,
    ) -> Self {
        let (message, source) = with_source(context, source);
        Error::Transcription { message, source }
    }

    /// Builds an [`Error::Notify`].
    pub fn notify(message: impl std::fmt::Display) -> Self {
        Error::Notify {
            message: message.to_string(),
            source: None,
        }
    }

    /// Builds an [`Error::Notify`] caused by `source`: the message is `"{context}: {source}"`.
    pub fn notify_with(context: impl std::fmt::Display, source: impl Into<BoxError>) -> Self {
        let (message, source) = with_source(context, source);
        Error::Notify { message, source }
    }
}

/// `"{context}: {source}"` and the boxed source.
fn with_source(
    context: impl std::fmt::Display,
    source: impl Into<BoxError>,
) -> (String, Option<BoxError>) {
    let source = source.into();
    (format!("{context}: {source}"), Some(source))
}

/// Families of errors; each binding has one exception class per family.
///
/// Deliberately not `#[non_exhaustive]`: a binding's mapping matches every family, so adding
/// one is a compile error in each binding until it is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// Bad arguments or inputs.
    InvalidInput,
    /// Media could not be read.
    Decode,
    /// The source could not be fetched.
    Download,
    /// The model is missing or invalid.
    Model,
    /// whisper.cpp failed.
    Transcription,
    /// The job was cancelled.
    Cancelled,
    /// No such job.
    JobNotFound,
    /// The job failed.
    JobFailed,
    /// The operation does not fit the job's or pipeline's state.
    InvalidState,
    /// The journal failed or is locked.
    Journal,
    /// Results storage failed.
    Store,
    /// A notification failed.
    Notify,
    /// A wait timed out.
    Timeout,
    /// An operating-system I/O error.
    Io,
}

/// Every stable error code, in a fixed order (the C binding numbers its statuses from it;
/// append only).
pub const ERROR_CODES: &[&str] = &[
    "invalid_input",
    "input_not_found",
    "empty_input",
    "unsupported_format",
    "unsupported_codec",
    "decode_failed",
    "no_audio",
    "network",
    "http_status",
    "rate_limited",
    "too_large",
    "not_media",
    "unsupported_source",
    "checksum_mismatch",
    "model_not_found",
    "model_invalid",
    "transcription_failed",
    "cancelled",
    "job_not_found",
    "job_failed",
    "attempts_exhausted",
    "illegal_transition",
    "journal_locked",
    "journal_error",
    "store_error",
    "invalid_key",
    "notify_failed",
    "timeout",
    "closed",
    "io_error",
    "server_error",
    "video_private",
    "age_restricted",
    "geo_blocked",
    "members_only",
    "live_not_supported",
    "video_unavailable",
    "yt_dlp_missing",
    "yt_dlp_failed",
    "circuit_open",
    "store_access_denied",
    "webhook_refused",
    "destination_refused",
    "download_timeout",
    "job_timeout",
    "internal_error",
    "idempotency_conflict",
];

impl ErrorCategory {
    /// Every family.
    pub const ALL: [ErrorCategory; 14] = [
        ErrorCategory::InvalidInput,
        ErrorCategory::Decode,
        ErrorCategory::Download,
        ErrorCategory::Model,
        ErrorCategory::Transcription,
        ErrorCategory::Cancelled,
        ErrorCategory::JobNotFound,
        ErrorCategory::JobFailed,
        ErrorCategory::InvalidState,
        ErrorCategory::Journal,
        ErrorCategory::Store,
        ErrorCategory::Notify,
        ErrorCategory::Timeout,
        ErrorCategory::Io,
    ];
}

#[cfg(feature = "sled")]
impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Journal {
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::journal_with("corrupt record", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        let samples = [
            Error::invalid("x"),
            Error::InputNotFound { path: "a".into() },
            Error::Decode {
                message: "m".into(),
            },
            Error::download(DownloadErrorKind::RateLimited, "m"),
            Error::Closed,
        ];
        let codes: Vec<_> = samples.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            [
                "invalid_input",
                "input_not_found",
                "decode_failed",
                "rate_limited",
                "closed"
            ]
        );
        for c in codes {
            assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        }
    }

    /// One value of every variant (and every download kind): keep in step with the enum.
    pub(crate) fn one_of_each() -> Vec<Error> {
        use DownloadErrorKind as K;
        let mut v = vec![
            Error::invalid("x"),
            Error::InputNotFound { path: "a".into() },
            Error::EmptyInput { path: "a".into() },
            Error::UnsupportedFormat {
                message: "m".into(),
            },
            Error::UnsupportedCodec { codec: "c".into() },
            Error::Decode {
                message: "m".into(),
            },
            Error::NoAudio {
                message: "m".into(),
            },
        ];
        for kind in [
            K::Network,
            K::HttpStatus,
            K::RateLimited,
            K::TooLarge,
            K::NotMedia,
            K::UnsupportedSource,
            K::ChecksumMismatch,
        ] {
            v.push(Error::download(kind, "m"));
        }
        v.extend([
            Error::ModelNotFound {
                path: "m".into(),
                hint: "h".into(),
            },
            Error::ModelInvalid {
                message: "m".into(),
            },
            Error::transcription("m"),
            Error::Cancelled { job_id: None },
            Error::JobNotFound { job_id: "j".into() },
            Error::JobFailed {
                job_id: "j".into(),
                code: "c".into(),
                message: "m".into(),
            },
            Error::AttemptsExhausted {
                job_id: "j".into(),
                attempts: 3,
            },
            Error::IllegalTransition {
                job_id: "j".into(),
                from: "a".into(),
                to: "b".into(),
            },
            Error::JournalLocked {
                path: "p".into(),
                pid: None,
            },
            Error::journal("m"),
            Error::store("m"),
            Error::InvalidKey {
                key: "k".into(),
                reason: "r".into(),
            },
            Error::notify("m"),
            Error::Timeout { seconds: 1.0 },
            Error::Closed,
            Error::io("ctx", std::io::Error::other("x")),
        ]);
        // Codes added later are appended, so the C binding's numbers stay put.
        for kind in &K::ALL[7..17] {
            v.push(Error::download(*kind, "m"));
        }
        v.push(Error::StoreAccessDenied {
            message: "m".into(),
            source: None,
        });
        v.push(Error::WebhookRefused {
            url: "u".into(),
            reason: "r".into(),
        });
        v.push(Error::download(K::DestinationRefused, "m"));
        v.push(Error::download(K::Deadline, "m"));
        v.push(Error::JobTimeout { seconds: 1.0 });
        v.push(Error::Internal {
            message: "m".into(),
        });
        v.push(Error::IdempotencyConflict {
            key: "k".into(),
            job_id: "j".into(),
        });
        v
    }

    #[test]
    fn error_codes_lists_every_code_once() {
        let codes: Vec<&str> = one_of_each().iter().map(|e| e.code()).collect();
        assert_eq!(
            codes, ERROR_CODES,
            "ERROR_CODES must list every variant's code in order"
        );
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len());
        let cats: std::collections::HashSet<_> =
            one_of_each().iter().map(|e| e.category()).collect();
        assert_eq!(cats.len(), ErrorCategory::ALL.len(), "every family is used");
    }

    #[test]
    fn messages_are_readable() {
        let e = Error::JournalLocked {
            path: "/tmp/j".into(),
            pid: Some(42),
        };
        assert_eq!(
            e.to_string(),
            "the journal at /tmp/j is in use by another ytcaption process (pid 42); stop it or use another --home"
        );
    }

    /// A plugin's own error type, wrapping another: the chain is two deep.
    #[derive(Debug)]
    struct PluginError {
        inner: std::io::Error,
    }

    impl std::fmt::Display for PluginError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "bucket unreachable")
        }
    }

    impl std::error::Error for PluginError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.inner)
        }
    }

    fn chain(e: &dyn std::error::Error) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut cur = e.source();
        while let Some(c) = cur {
            out.push(c.to_string());
            cur = c.source();
        }
        out
    }

    #[test]
    fn source_walks_to_the_plugin_error_and_beyond() {
        let plugin = || PluginError {
            inner: std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        };
        let cases = [
            (
                Error::store_with("put 1/t.srt failed", plugin()),
                "store_error",
                "store error: put 1/t.srt failed: bucket unreachable",
            ),
            (
                Error::store_access_denied_with("put", plugin()),
                "store_access_denied",
                "store access denied: put: bucket unreachable",
            ),
            (
                Error::download_with(DownloadErrorKind::Network, "GET failed", plugin()),
                "network",
                "download failed (network): GET failed: bucket unreachable",
            ),
            (
                Error::transcription_with("chunk 3", plugin()),
                "transcription_failed",
                "transcription failed: chunk 3: bucket unreachable",
            ),
            (
                Error::journal_with("commit", plugin()),
                "journal_error",
                "journal error: commit: bucket unreachable",
            ),
            (
                Error::notify_with("webhook", plugin()),
                "notify_failed",
                "notification failed: webhook: bucket unreachable",
            ),
        ];
        for (e, code, message) in cases {
            assert_eq!(e.code(), code);
            assert_eq!(e.to_string(), message);
            assert_eq!(
                chain(&e),
                [message, "bucket unreachable", "connect timed out"],
                "{code}"
            );
            let src = std::error::Error::source(&e).unwrap();
            let p = src
                .downcast_ref::<PluginError>()
                .expect("the plugin's own type");
            assert_eq!(p.inner.kind(), std::io::ErrorKind::TimedOut);
        }
        // Without a cause there is nothing to walk, and the message is as before.
        let e = Error::store("gone");
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(e.to_string(), "store error: gone");
        // Library errors converted by `From` keep theirs too.
        let json = serde_json::from_str::<u32>("x").unwrap_err();
        let e = Error::from(json);
        assert!(
            e.to_string().starts_with("journal error: corrupt record: "),
            "{e}"
        );
        let src = std::error::Error::source(&e).unwrap();
        assert!(src.downcast_ref::<serde_json::Error>().is_some());
        let e = Error::io("reading x", std::io::Error::other("boom"));
        assert_eq!(chain(&e), ["reading x: boom", "boom"]);
    }
}
