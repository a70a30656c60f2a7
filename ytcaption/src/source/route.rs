//! Which downloader a URL goes to: YouTube (through yt-dlp) or plain HTTP(S).
//!
//! YouTube's URL forms are recognised here, without the network: `watch?v=`, `youtu.be/`,
//! `/shorts/`, `/live/`, `/embed/`, `/v/`, on `www.`, `m.`, `music.` and the no-cookie hosts,
//! with any extra query parameters. A playlist URL that names a video takes that one video (like
//! yt-dlp's `--no-playlist`); a playlist URL without one is refused.

use url::Url;

use crate::error::{Error, Result};

/// Where a URL's media comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// A YouTube video.
    YouTube(YouTubeVideo),
    /// Any other `http(s)://` URL: fetched directly.
    Http(Url),
}

/// One YouTube video.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct YouTubeVideo {
    /// The 11-character video id.
    pub id: String,
}

impl YouTubeVideo {
    /// The canonical watch URL (what yt-dlp is given).
    pub fn url(&self) -> String {
        format!("https://www.youtube.com/watch?v={}", self.id)
    }
}

/// Routes an `http(s)://` URL.
///
/// ```
/// use ytcaption::download::route::{route, Route};
/// match route("https://youtu.be/dQw4w9WgXcQ?t=42").unwrap() {
///     Route::YouTube(v) => assert_eq!(v.id, "dQw4w9WgXcQ"),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(route("https://example.com/talk.mp3").unwrap(), Route::Http(_)));
/// assert_eq!(route("https://www.youtube.com/playlist?list=PL123").unwrap_err().code(), "invalid_input");
/// ```
pub fn route(input: &str) -> Result<Route> {
    let url = Url::parse(input.trim())
        .map_err(|e| Error::invalid(format!("{input:?} is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "{input:?}: only http:// and https:// URLs can be downloaded"
        )));
    }
    let Some(host) = url.host_str().map(|h| h.to_ascii_lowercase()) else {
        return Err(Error::invalid(format!("{input:?} has no host")));
    };
    let host = host.trim_end_matches('.');
    if host == "youtu.be" || host == "www.youtu.be" {
        let id = url.path_segments().and_then(|mut s| s.next()).unwrap_or("");
        return video(input, id).map(Route::YouTube);
    }
    let yt_host = matches!(
        host,
        "youtube.com"
            | "www.youtube.com"
            | "m.youtube.com"
            | "music.youtube.com"
            | "youtube-nocookie.com"
            | "www.youtube-nocookie.com"
    );
    if !yt_host {
        return Ok(Route::Http(url));
    }
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let query = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    match segments.as_slice() {
        ["watch"] => match query("v") {
            Some(id) => video(input, &id).map(Route::YouTube),
            None if query("list").is_some() => Err(playlist(input)),
            None => Err(Error::invalid(format!(
                "{input:?}: a YouTube watch URL needs a video id (?v=...)"
            ))),
        },
        ["shorts" | "live" | "embed" | "v" | "e", id, ..] => video(input, id).map(Route::YouTube),
        ["playlist"] => match query("v") {
            Some(id) => video(input, &id).map(Route::YouTube),
            None => Err(playlist(input)),
        },
        _ => Err(Error::invalid(format!(
            "{input:?} is not a YouTube video URL (channels, searches and home pages are not \
             transcribed: give one video's URL)"
        ))),
    }
}

fn playlist(input: &str) -> Error {
    Error::invalid(format!(
        "{input:?} is a playlist: ytcaption transcribes one video at a time; give the URL of one \
         of its videos (watch?v=...)"
    ))
}

fn video(input: &str, id: &str) -> Result<YouTubeVideo> {
    let id = id.trim();
    if id.len() == 11
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(YouTubeVideo { id: id.to_string() })
    } else {
        Err(Error::invalid(format!(
            "{input:?}: {id:?} is not a YouTube video id (11 letters, digits, - or _)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "dQw4w9WgXcQ";

    #[test]
    fn url_table() {
        let youtube = [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "http://youtube.com/watch?v=dQw4w9WgXcQ",
            "https://youtube.com/watch?feature=share&v=dQw4w9WgXcQ&t=42s",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf&index=3",
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://music.youtube.com/watch?v=dQw4w9WgXcQ&si=abc",
            "https://WWW.YouTube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube.com./watch?v=dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ?si=xyz&t=10",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "https://youtube.com/shorts/dQw4w9WgXcQ?feature=share",
            "https://www.youtube.com/live/dQw4w9WgXcQ?si=1",
            "https://www.youtube.com/embed/dQw4w9WgXcQ?start=5",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
            "https://www.youtube.com/v/dQw4w9WgXcQ",
            "https://www.youtube.com/playlist?list=PL123&v=dQw4w9WgXcQ",
            "  https://youtu.be/dQw4w9WgXcQ  ",
        ];
        for u in youtube {
            match route(u) {
                Ok(Route::YouTube(v)) => assert_eq!(v.id, ID, "{u}"),
                other => panic!("{u}: {other:?}"),
            }
        }
        let http = [
            "https://example.com/talk.mp3",
            "http://127.0.0.1:8080/a.wav?token=1",
            "https://notyoutube.com/watch?v=dQw4w9WgXcQ",
            "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        ];
        for u in http {
            assert!(matches!(route(u), Ok(Route::Http(_))), "{u}");
        }
        let refused = [
            ("https://www.youtube.com/playlist?list=PL123", "playlist"),
            ("https://www.youtube.com/watch?list=PL123", "playlist"),
            ("https://www.youtube.com/watch", "needs a video id"),
            (
                "https://www.youtube.com/watch?v=short",
                "not a YouTube video id",
            ),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQQ",
                "not a YouTube video id",
            ),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgX%21Q",
                "not a YouTube video id",
            ),
            ("https://youtu.be/", "not a YouTube video id"),
            ("https://www.youtube.com/shorts/", "not a YouTube video URL"),
            (
                "https://www.youtube.com/@somechannel",
                "not a YouTube video URL",
            ),
            (
                "https://www.youtube.com/channel/UC123",
                "not a YouTube video URL",
            ),
            ("https://www.youtube.com/", "not a YouTube video URL"),
            (
                "https://www.youtube.com/results?search_query=x",
                "not a YouTube video URL",
            ),
            ("ftp://youtube.com/watch?v=dQw4w9WgXcQ", "only http"),
            ("https://", "not a valid URL"),
            ("http://exa mple.com/a.mp3", "not a valid URL"),
            ("youtube.com/watch?v=dQw4w9WgXcQ", "not a valid URL"),
        ];
        for (u, why) in refused {
            let e = route(u).expect_err(u);
            assert_eq!(e.code(), "invalid_input", "{u}");
            assert!(e.to_string().contains(why), "{u}: {e}");
        }
        let v = YouTubeVideo { id: ID.into() };
        assert_eq!(v.url(), "https://www.youtube.com/watch?v=dQw4w9WgXcQ");
    }
}
