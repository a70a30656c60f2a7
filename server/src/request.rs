//! What a client's submission becomes: a [`JobRequest`] built from a JSON body or form fields
//! by the core's field tables, with the sources a client may not name refused.

use axum::body::Body;
use serde_json::Value;
use ytcaption::{JobRequest, Source};

use crate::error::{codes, ApiError};

/// Largest JSON body of a submission.
const MAX_JSON: usize = 1 << 20;
/// Who submitted jobs over HTTP (until keys name owners).
const REQUESTED_BY: &str = "api";

/// Refuses what a client may not name: a path on the server or a `file://` URL. Decided from
/// the text alone, before anything looks at the file system, so the answer is the same whether
/// the path exists or not.
pub(crate) fn check_client_source(input: &str) -> Result<(), ApiError> {
    match Source::parse(input) {
        Ok(Source::File { .. }) => Err(ApiError::new(
            codes::LOCAL_SOURCE_REFUSED,
            "local paths and file:// URLs are not accepted over HTTP: give an http(s):// or \
             YouTube URL, or upload the file (multipart/form-data field `file`)",
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sets a request's field from a client, by the core's field tables (`requested_by` is the
/// server's to set).
pub(crate) fn set_field(
    req: &mut JobRequest,
    name: &str,
    value: FieldValue,
) -> Result<(), ApiError> {
    if name == "requested_by" || name == "owner" {
        return Err(ApiError::new(
            "invalid_input",
            format!("{name} is set by the server"),
        ));
    }
    match value {
        FieldValue::Json(v) => req.set_json(name, v)?,
        FieldValue::Text(t) => req.set(name, &t)?,
    }
    Ok(())
}

/// A field's value as a client sent it.
pub(crate) enum FieldValue {
    /// From a JSON body.
    Json(Value),
    /// From a form field.
    Text(String),
}

/// A JSON body (at most 1 MiB).
pub(crate) async fn read_json(body: Body) -> Result<Value, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_JSON).await.map_err(|_| {
        ApiError::new(
            codes::BAD_REQUEST,
            format!("the JSON body is unreadable or over {MAX_JSON} bytes"),
        )
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(codes::BAD_REQUEST, format!("invalid JSON: {e}")))
}

/// A submission's JSON body `{url, …fields}` as a request.
pub(crate) async fn json_request(body: Body) -> Result<JobRequest, ApiError> {
    let value = read_json(body).await?;
    let Value::Object(mut fields) = value else {
        return Err(ApiError::new(
            codes::BAD_REQUEST,
            "the body must be a JSON object",
        ));
    };
    let url = match fields.remove("url") {
        Some(Value::String(u)) => u,
        Some(_) => return Err(ApiError::new("invalid_input", "url must be a string")),
        None => {
            return Err(ApiError::new(
                "invalid_input",
                "url is required (an http(s):// or YouTube URL); to send a file, upload it as multipart/form-data",
            ))
        }
    };
    check_client_source(&url)?;
    let mut req = new_request(url);
    for (name, value) in fields {
        set_field(&mut req, &name, FieldValue::Json(value))?;
    }
    Ok(req)
}

/// New requests are made by the API.
pub(crate) fn new_request(input: String) -> JobRequest {
    JobRequest::new(input).requested_by(REQUESTED_BY)
}
