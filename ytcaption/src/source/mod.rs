//! Where a job's media comes from: a [`Source`], parsed once from what a user typed, and the
//! routing of its URL ([`route`]). Below both the jobs and the downloaders: it imports neither.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod route;

/// Where a job's media comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A file on this machine.
    File {
        /// Its path (made absolute at submit time).
        path: PathBuf,
    },
    /// An `http(s)://` URL.
    Url {
        /// The URL as given.
        url: String,
    },
}

impl Source {
    /// Parses what a user typed: an `http(s)://` URL, a `file://` URL or a path.
    ///
    /// Relative paths are made absolute against the current directory, so a job submitted from
    /// one directory can be run by a worker started in another.
    ///
    /// ```
    /// use ytcaption::Source;
    /// assert!(matches!(Source::parse("https://example.com/a.mp3").unwrap(), Source::Url { .. }));
    /// assert!(matches!(Source::parse("/tmp/a.wav").unwrap(), Source::File { .. }));
    /// assert!(Source::parse("").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Source> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid(
                "the input is empty: give a file path or a URL",
            ));
        }
        let lower = trimmed.to_ascii_lowercase();
        // A YouTube link pasted without its scheme.
        let with_scheme;
        let (trimmed, lower) = if [
            "youtube.com/",
            "www.youtube.com/",
            "m.youtube.com/",
            "music.youtube.com/",
            "youtu.be/",
        ]
        .iter()
        .any(|h| lower.starts_with(h))
        {
            with_scheme = format!("https://{trimmed}");
            (with_scheme.as_str(), with_scheme.to_ascii_lowercase())
        } else {
            (trimmed, lower)
        };
        if lower.starts_with("http://") || lower.starts_with("https://") {
            // Refuse what no downloader can take (a playlist, a channel, a malformed URL) now,
            // not when a worker gets to it.
            route::route(trimmed)?;
            return Ok(Source::Url {
                url: trimmed.to_string(),
            });
        }
        if let Some(rest) = trimmed.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(Error::invalid(format!(
                    "{trimmed:?}: file URLs must be absolute (file:///path)"
                )));
            }
            return Ok(Source::File {
                path: PathBuf::from(percent_decode(rest)),
            });
        }
        if let Some((scheme, _)) = trimmed.split_once("://") {
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
            {
                return Err(Error::invalid(format!(
                    "unsupported URL scheme {scheme:?} in {trimmed:?} (use a path, http:// or https://)"
                )));
            }
        }
        let path = PathBuf::from(trimmed);
        let path = if path.is_absolute() {
            path
        } else {
            std::env::current_dir()
                .map_err(|e| Error::io("reading the current directory", e))?
                .join(path)
        };
        Ok(Source::File { path })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path } => write!(f, "{}", path.display()),
            Source::Url { url } => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("file:///tmp/a%20b.wav").unwrap(),
            Source::File {
                path: "/tmp/a b.wav".into()
            }
        );
        assert!(Source::parse("ftp://x/y").is_err());
        assert_eq!(
            Source::parse("youtu.be/dQw4w9WgXcQ").unwrap(),
            Source::Url {
                url: "https://youtu.be/dQw4w9WgXcQ".into()
            }
        );
        let e = Source::parse("https://www.youtube.com/playlist?list=PL1").unwrap_err();
        assert!(e.to_string().contains("playlist"), "{e}");
        assert!(Source::parse("   ").is_err());
        match Source::parse("rel.wav").unwrap() {
            Source::File { path } => assert!(path.is_absolute()),
            other => panic!("{other:?}"),
        }
    }
}
