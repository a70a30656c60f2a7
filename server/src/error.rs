//! Errors as HTTP answers: `{"error": {"code", "message"}}` with the status from [`status_for`],
//! the one table from stable codes (the core's [`ytcaption::Error::code`] and this crate's own,
//! [`codes`]) to HTTP statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The codes of refusals made by the HTTP layer itself (the core's are
/// [`ytcaption::ERROR_CODES`]).
pub mod codes {
    /// A local path or `file://` URL named by a client: only URLs and uploads are accepted.
    pub const LOCAL_SOURCE_REFUSED: &str = "local_source_refused";
    /// An uploaded file over the server's upload limit.
    pub const UPLOAD_TOO_LARGE: &str = "upload_too_large";
    /// A request body that is not what the endpoint takes (bad JSON, bad multipart, a JSON body
    /// over its limit).
    pub const BAD_REQUEST: &str = "bad_request";
    /// A body of a content type the endpoint does not take.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The result of a job that has not completed.
    pub const JOB_NOT_COMPLETED: &str = "job_not_completed";
    /// No such endpoint.
    pub const NOT_FOUND: &str = "not_found";
    /// The endpoint exists but not with this method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The server is not ready or is shutting down.
    pub const UNAVAILABLE: &str = "unavailable";
    /// Something failed inside the server (the log has the details).
    pub const INTERNAL: &str = "internal";
    /// No API key, or one that is unknown or revoked (`Authorization: Bearer SECRET`).
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// The key's scope does not allow this (an admin endpoint with a user key).
    pub const FORBIDDEN: &str = "forbidden";
    /// A key over its quota (unfinished jobs at once, audio minutes per day): 429 with
    /// `Retry-After`.
    pub const QUOTA_EXCEEDED: &str = "quota_exceeded";
    /// The queue holds the most jobs the server takes: 503 with `Retry-After`.
    pub const QUEUE_FULL: &str = "queue_full";
    /// No API key with this id or name.
    pub const KEY_NOT_FOUND: &str = "key_not_found";
}

/// The HTTP status of an error code: the one table for every endpoint.
pub fn status_for(code: &str) -> StatusCode {
    use codes::*;
    match code {
        // The request is wrong.
        "invalid_input" | "empty_input" | "invalid_key" | BAD_REQUEST => StatusCode::BAD_REQUEST,
        LOCAL_SOURCE_REFUSED | "webhook_refused" | "destination_refused" | "unsupported_source" => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        UPLOAD_TOO_LARGE | "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "job_not_found" | "input_not_found" | NOT_FOUND | KEY_NOT_FOUND => StatusCode::NOT_FOUND,
        UNAUTHORIZED => StatusCode::UNAUTHORIZED,
        FORBIDDEN => StatusCode::FORBIDDEN,
        METHOD_NOT_ALLOWED => StatusCode::METHOD_NOT_ALLOWED,
        // The job is not in a state that allows it.
        "illegal_transition" | JOB_NOT_COMPLETED | "idempotency_conflict" => StatusCode::CONFLICT,
        // A job cancelled while a client waited for its answer (the OpenAI-compatible API).
        "cancelled" => StatusCode::CONFLICT,
        // Media the server cannot read, answered to a client waiting for its job.
        "unsupported_format" | "unsupported_codec" | "decode_failed" | "no_audio" | "not_media" => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        "rate_limited" | QUOTA_EXCEEDED => StatusCode::TOO_MANY_REQUESTS,
        // The service cannot do it now.
        "closed" | "journal_locked" | "model_not_found" | UNAVAILABLE | QUEUE_FULL => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        "timeout" | "download_timeout" | "job_timeout" => StatusCode::GATEWAY_TIMEOUT,
        "store_error" | "store_access_denied" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error answer: a stable code, a message for people, and the status [`status_for`] gives
/// the code.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The stable code.
    pub code: &'static str,
    /// What went wrong, in words.
    pub message: String,
    /// Seconds the client should wait before trying again (the `Retry-After` header).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `code` (one of [`codes`] or a core code).
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` of `seconds` (at least 1).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        status_for(self.code)
    }

    /// `job_not_found` for `id` (also for ids that are not job ids: there is no such job).
    pub fn job_not_found(id: &str) -> Self {
        ApiError::new("job_not_found", format!("no job with id {id:?}"))
    }
}

impl From<ytcaption::Error> for ApiError {
    fn from(e: ytcaption::Error) -> Self {
        let code = e.code();
        if status_for(code).is_server_error() {
            tracing::error!(code, error = %e, "request failed");
        }
        ApiError::new(code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut res = (self.status(), Json(body)).into_response();
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        if self.code == codes::UNAUTHORIZED {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_a_deliberate_status() {
        // Codes that mean "the server failed" are 5xx; every other core code maps to a 4xx or
        // a 5xx chosen above, never by accident to 200.
        for code in ytcaption::ERROR_CODES {
            let s = status_for(code);
            assert!(s.is_client_error() || s.is_server_error(), "{code}: {s}");
        }
        assert_eq!(status_for("invalid_input"), StatusCode::BAD_REQUEST);
        assert_eq!(status_for("job_not_found"), StatusCode::NOT_FOUND);
        assert_eq!(
            status_for(codes::UPLOAD_TOO_LARGE),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(status_for(codes::UNAUTHORIZED), StatusCode::UNAUTHORIZED);
        assert_eq!(status_for(codes::FORBIDDEN), StatusCode::FORBIDDEN);
        assert_eq!(
            status_for(codes::QUOTA_EXCEEDED),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            status_for(codes::QUEUE_FULL),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status_for("journal_error"),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
