//! Where a job's media comes from: a [`Source`], parsed once from what a user typed, and the
//! routing of its URL ([`route`]). Below both the jobs and the downloaders: it imports neither.
//!
//! A URL is routed once, by [`Source::parse`], and the [`Route`] is kept in the source: the
//! downloaders and the cache identity read it ([`Source::route`]) instead of routing again.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod captions;
pub mod route;

use route::Route;

/// Where a job's media comes from.
///
/// Serialized (journal records, events) as `{"kind": "file", "path": …}` or
/// `{"kind": "url", "url": …}`, as before the route was kept in it: reading a record routes its
/// URL again.
///
/// `Display` and `Debug` show a URL with its credentials and signed parameters redacted
/// ([`crate::redact::url`]); the URL itself (what the download uses) keeps them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SourceRecord", into = "SourceRecord")]
#[non_exhaustive]
pub enum Source {
    /// A file on this machine.
    File {
        /// Its path (made absolute at submit time).
        path: PathBuf,
    },
    /// An `http(s)://` URL (made by [`Source::parse`], which routes it).
    #[non_exhaustive]
    Url {
        /// The URL as given.
        url: String,
        /// Where its media comes from, decided when it was parsed. `None` only for a record
        /// whose URL no longer routes (written by an older version): fetching it fails with
        /// the reason.
        route: Option<Route>,
    },
}

/// [`Source`]'s serialized form, unchanged since the first journal.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum SourceRecord {
    File { path: PathBuf },
    Url { url: String },
}

impl From<SourceRecord> for Source {
    fn from(record: SourceRecord) -> Source {
        match record {
            SourceRecord::File { path } => Source::File { path },
            SourceRecord::Url { url } => {
                let route = route::route(&url).ok();
                Source::Url { url, route }
            }
        }
    }
}

impl From<Source> for SourceRecord {
    fn from(source: Source) -> SourceRecord {
        match source {
            Source::File { path } => SourceRecord::File { path },
            Source::Url { url, .. } => SourceRecord::Url { url },
        }
    }
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
            let route = route::route(trimmed)?;
            return Ok(Source::Url {
                url: trimmed.to_string(),
                route: Some(route),
            });
        }
        if let Some(rest) = trimmed.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return Err(Error::invalid(format!(
                    "{trimmed:?}: file URLs must be absolute (file:///path)"
                )));
            }
            return Ok(Source::File {
                path: PathBuf::from(crate::redact::percent_decode(rest, false)),
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

    /// Where a URL source's media comes from, as decided when it was parsed.
    ///
    /// Fails for a file, and for a URL that no longer routes (a record written by an older
    /// version) with the reason.
    ///
    /// ```
    /// use ytcaption::download::Route;
    /// use ytcaption::Source;
    /// let s = Source::parse("https://youtu.be/dQw4w9WgXcQ").unwrap();
    /// assert!(matches!(s.route().unwrap(), Route::YouTube(v) if v.id == "dQw4w9WgXcQ"));
    /// assert!(Source::parse("/tmp/a.wav").unwrap().route().is_err());
    /// ```
    pub fn route(&self) -> Result<&Route> {
        match self {
            Source::Url {
                route: Some(route), ..
            } => Ok(route),
            // Routed again only to say why it does not route.
            Source::Url { url, route: None } => Err(route::route(url)
                .err()
                .unwrap_or_else(|| Error::invalid(format!("{url:?} was not routed")))),
            Source::File { path } => Err(Error::invalid(format!(
                "{}: a local file has no URL route",
                path.display()
            ))),
        }
    }
}

impl fmt::Display for Source {
    /// The path, or the URL with credentials and signed parameters redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path } => write!(f, "{}", path.display()),
            Source::Url { url, .. } => f.write_str(&crate::redact::url(url)),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path } => f.debug_struct("File").field("path", path).finish(),
            Source::Url { url, route } => f
                .debug_struct("Url")
                .field("url", &crate::redact::url(url))
                .field("routed", &route.is_some())
                .finish(),
        }
    }
}

impl Source {
    /// The same source with a URL's credentials and signed parameters redacted: what events
    /// and other records people read carry (the job keeps the original for its download).
    pub fn redacted(&self) -> Source {
        match self {
            Source::File { .. } => self.clone(),
            Source::Url { url, route } => {
                let shown = crate::redact::url(url);
                if shown == *url {
                    return self.clone();
                }
                Source::Url {
                    route: route::route(&shown).ok().or_else(|| route.clone()),
                    url: shown,
                }
            }
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
                url: "https://youtu.be/dQw4w9WgXcQ".into(),
                route: Some(Route::YouTube(route::YouTubeVideo {
                    id: "dQw4w9WgXcQ".into()
                })),
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

    #[test]
    fn serialized_form_is_unchanged_and_records_of_today_read_back_routed() {
        use serde_json::json;
        let url = Source::parse("https://youtu.be/dQw4w9WgXcQ").unwrap();
        let url_json = json!({"kind": "url", "url": "https://youtu.be/dQw4w9WgXcQ"});
        assert_eq!(serde_json::to_value(&url).unwrap(), url_json);
        let file = Source::parse("/tmp/a b.wav").unwrap();
        let file_json = json!({"kind": "file", "path": "/tmp/a b.wav"});
        assert_eq!(serde_json::to_value(&file).unwrap(), file_json);
        // What a journal written before the route moved into the source holds.
        let read: Source = serde_json::from_value(url_json).unwrap();
        assert_eq!(read, url);
        assert!(matches!(read.route().unwrap(), Route::YouTube(v) if v.id == "dQw4w9WgXcQ"));
        let read: Source = serde_json::from_value(file_json).unwrap();
        assert_eq!(read, file);
        let http: Source =
            serde_json::from_str(r#"{"kind":"url","url":"https://example.com/talk.mp3?x=1"}"#)
                .unwrap();
        assert!(
            matches!(http.route().unwrap(), Route::Http(u) if u.host_str() == Some("example.com"))
        );
        // A record whose URL no longer routes still reads; fetching it fails with the reason.
        let old: Source = serde_json::from_str(
            r#"{"kind":"url","url":"https://www.youtube.com/playlist?list=PL1"}"#,
        )
        .unwrap();
        assert_eq!(old.to_string(), "https://www.youtube.com/playlist?list=PL1");
        let e = old.route().unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("playlist"), "{e}");
        assert!(serde_json::from_str::<Source>(r#"{"kind":"ftp","url":"x"}"#).is_err());
    }
}
