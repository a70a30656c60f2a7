//! Multipart submissions: the `file` field streamed chunk by chunk to `<home>/uploads/<id>`
//! under the upload limit (memory does not grow with the file), the other fields set on the
//! request by name.

use std::path::PathBuf;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use tokio::io::AsyncWriteExt;
use ytcaption::JobRequest;

use crate::error::{codes, ApiError};
use crate::request::{check_client_source, new_request, set_field, FieldValue};
use crate::ServerState;

/// Largest form field other than the file.
const MAX_FIELD: usize = 64 << 10;

/// An uploaded file; removed when dropped unless [`keep`](Self::keep) was called.
pub struct Upload {
    /// Where it is.
    pub path: PathBuf,
    kept: bool,
}

impl Upload {
    /// Keeps the file: it is a job's source now.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        codes::UPLOAD_TOO_LARGE,
        format!("the upload is larger than this server's limit of {limit} bytes"),
    )
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(codes::BAD_REQUEST, format!("invalid multipart body: {e}"))
}

/// A file extension worth keeping (decoders use it as a hint): 1 to 8 ASCII letters or digits.
fn extension(file_name: Option<&str>) -> String {
    file_name
        .and_then(|n| std::path::Path::new(n).extension())
        .and_then(|e| e.to_str())
        .filter(|e| (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default()
}

/// A multipart body as read by [`read_form`]: the uploaded file, if any, and the other fields
/// in order, as text.
pub struct Form {
    /// The `file` field, on disk.
    pub upload: Option<Upload>,
    /// Every other field, `(name, value)`, in the order they came.
    pub fields: Vec<(String, String)>,
}

/// Reads a multipart body: the `file` field streamed to `<home>/uploads/` under the upload
/// limit (refused with `upload_too_large` while it streams, nothing kept), the other fields as
/// UTF-8 text of at most 64 KiB each. The job API's submissions and the OpenAI-compatible
/// endpoints both read their bodies with it.
pub async fn read_form(s: &ServerState, req: Request) -> Result<Form, ApiError> {
    let limit = s.config().max_upload_bytes;
    // A body announced as far larger than the limit is refused before any byte is read.
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit.saturating_add(1 << 20)) {
        return Err(too_large(limit));
    }
    let mut mp = Multipart::from_request(req, &()).await.map_err(bad)?;
    let mut upload: Option<Upload> = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if upload.is_some() {
                return Err(ApiError::new(codes::BAD_REQUEST, "one file per request"));
            }
            let dir = &s.inner.uploads;
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| ytcaption::Error::io(format!("creating {}", dir.display()), e))?;
            let path = dir.join(format!(
                "{}{}",
                uuid::Uuid::now_v7().simple(),
                extension(field.file_name())
            ));
            let up = Upload {
                path: path.clone(),
                kept: false,
            };
            let io = |e| ytcaption::Error::io(format!("writing {}", path.display()), e);
            let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
            let mut total = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                total += chunk.len() as u64;
                if total > limit {
                    // `up` is dropped: the partial file goes.
                    return Err(too_large(limit));
                }
                file.write_all(&chunk).await.map_err(io)?;
            }
            if total == 0 {
                return Err(ApiError::new("invalid_input", "the uploaded file is empty"));
            }
            // On disk before the job that names it is journaled: an accepted job survives a
            // crash with its source.
            file.sync_all().await.map_err(io)?;
            upload = Some(up);
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_FIELD {
                    return Err(ApiError::new(
                        codes::BAD_REQUEST,
                        format!("form field {name:?} is over {MAX_FIELD} bytes"),
                    ));
                }
            }
            let text = String::from_utf8(text).map_err(|_| {
                ApiError::new(
                    codes::BAD_REQUEST,
                    format!("form field {name:?} is not UTF-8"),
                )
            })?;
            fields.push((name, text));
        }
    }
    Ok(Form { upload, fields })
}

/// Reads a multipart submission: the request (its input the uploaded file, or a `url` field)
/// and the upload, which the caller keeps once the job is accepted.
pub async fn receive(
    s: &ServerState,
    req: Request,
) -> Result<(JobRequest, Option<Upload>), ApiError> {
    let Form {
        upload,
        fields: all,
    } = read_form(s, req).await?;
    let mut url: Option<String> = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, text) in all {
        if name == "url" {
            url = Some(text);
        } else {
            fields.push((name, text));
        }
    }
    let (input, upload) = match (upload, url) {
        (Some(u), None) => (u.path.to_string_lossy().into_owned(), Some(u)),
        (None, Some(url)) => {
            check_client_source(&url)?;
            (url, None)
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                "invalid_input",
                "give a file or a url, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::new(
                "invalid_input",
                "multipart submissions need a `file` field (or a `url` field)",
            ))
        }
    };
    let mut req = new_request(input);
    for (name, value) in fields {
        set_field(&mut req, &name, FieldValue::Text(value))?;
    }
    Ok((req, upload))
}
