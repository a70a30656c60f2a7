//! Credentials out of everything that is written down.
//!
//! Media URLs may carry secrets: `user:password@` and signed query parameters
//! (`?token=…`, `sig=…`, `X-Amz-Signature=…`, `key=…`). The download needs them, so the job's
//! source keeps them; everything else — events, error messages, logs, webhook payloads —
//! shows the URL through [`url()`] (one URL) or [`text`] (every URL in a message), which replace
//! the user information and the values of secret-looking parameters with `***`.
//!
//! ```
//! use ytcaption::redact;
//! assert_eq!(
//!     redact::url("https://bob:hunter2@cdn.example/a.mp3?X-Amz-Signature=abc&v=2"),
//!     "https://***@cdn.example/a.mp3?X-Amz-Signature=***&v=2"
//! );
//! assert_eq!(
//!     redact::text("HTTP 403 from https://h/a.mp3?token=t0p (denied)"),
//!     "HTTP 403 from https://h/a.mp3?token=*** (denied)"
//! );
//! ```

/// What replaces a secret.
pub const MASK: &str = "***";

/// Whether a query or fragment parameter called `name` holds a secret: AWS and Google signed
/// URL parameters (`X-Amz-*`, `X-Goog-*`) and any name containing `token`, `sig`, `key`,
/// `secret`, `pass`, `pwd`, `auth`, `credential` or `session` (ASCII case ignored), and
/// OAuth's `code`.
pub fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const PARTS: [&str; 9] = [
        "token",
        "sig",
        "key",
        "secret",
        "pass",
        "pwd",
        "auth",
        "credential",
        "session",
    ];
    n.starts_with("x-amz-")
        || n.starts_with("x-goog-")
        || n == "code"
        || n == "policy"
        || PARTS.iter().any(|p| n.contains(p))
}

/// `url` with its user information and the values of secret parameters ([`is_secret_param`])
/// replaced by `***`; everything else as written. Text that is not a URL comes back as it is.
pub fn url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let (head, rest) = url.split_at(scheme_end + 3);
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let mut out = String::with_capacity(url.len());
    out.push_str(head);
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(MASK);
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let (before_frag, frag) = match tail.find('#') {
        Some(i) => (&tail[..i], Some(&tail[i + 1..])),
        None => (tail, None),
    };
    match before_frag.find('?') {
        Some(q) => {
            out.push_str(&before_frag[..=q]);
            out.push_str(&params(&before_frag[q + 1..]));
        }
        None => out.push_str(before_frag),
    }
    if let Some(f) = frag {
        out.push('#');
        if f.contains('=') {
            out.push_str(&params(f));
        } else {
            out.push_str(f);
        }
    }
    out
}

/// `a=1&token=x` → `a=1&token=***`.
fn params(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_param(&percent_decode(k, true)) => format!("{k}={MASK}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `%XX` escapes decoded (invalid ones kept as they are), and `+` as a space where `plus_is_space`
/// (query strings); bytes that are not UTF-8 become U+FFFD.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && b[i] == b'+' {
            b' '
        } else {
            b[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every `scheme://…` URL in it passed through [`url()`]. A URL ends at white space,
/// a quote, `<`, `>`, a closing bracket or a backtick.
pub fn text(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: the letters (and + - .) right before "://".
        let start = rest[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map(|(j, _)| j)
            .unwrap_or(i);
        let end = rest[i..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ']' | '`')
            })
            .map(|e| i + e)
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `line` as it may be written to a log: URLs through [`text`], API key secrets
/// (`ytc_` + hex digits, [`crate::keys::SECRET_PREFIX`]) and the credentials of `Bearer` and
/// `Basic` authorization values replaced by `***`. Every line a front end logs goes through it.
///
/// ```
/// use ytcaption::redact;
/// assert_eq!(
///     redact::log_line("authorization: Bearer ytc_0123abcd from https://u:p@h/x"),
///     "authorization: Bearer *** from https://***@h/x"
/// );
/// ```
pub fn log_line(line: &str) -> String {
    let mut out = text(line);
    for scheme in ["Bearer ", "bearer ", "Basic ", "basic "] {
        out = mask_after(&out, scheme, |c| {
            !c.is_whitespace() && !matches!(c, '"' | '\'' | ',')
        });
    }
    mask_after(&out, "ytc_", |c| c.is_ascii_hexdigit())
}

/// `s` with the run of characters that satisfy `keep` after each `marker` replaced by
/// [`MASK`] (`marker` itself stays, except `ytc_` secrets, which become `***` whole).
fn mask_after(s: &str, marker: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(marker) {
        let after = &rest[i + marker.len()..];
        let n = after.find(|c: char| !keep(c)).unwrap_or(after.len());
        out.push_str(&rest[..i]);
        if n == 0 {
            out.push_str(marker);
        } else if marker == "ytc_" {
            out.push_str(MASK);
        } else {
            out.push_str(marker);
            out.push_str(MASK);
        }
        rest = &after[n..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines() {
        let secret = format!("ytc_{}", "ab12".repeat(16));
        let line = format!(
            r#"{{"msg":"key {secret} used","auth":"Bearer {secret}","url":"https://a:b@h/x?sig=1"}}"#
        );
        let shown = log_line(&line);
        assert!(!shown.contains("ab12"), "{shown}");
        assert!(!shown.contains("a:b@"), "{shown}");
        assert!(shown.contains(r#""auth":"Bearer ***""#), "{shown}");
        assert!(shown.contains("key *** used"), "{shown}");
        assert_eq!(log_line("no secrets: ytc_ alone"), "no secrets: ytc_ alone");
    }

    #[test]
    fn urls() {
        for (given, shown) in [
            ("https://example.com/a.mp3", "https://example.com/a.mp3"),
            (
                "https://user:pw@example.com:8443/a.mp3",
                "https://***@example.com:8443/a.mp3",
            ),
            ("http://tok@h/x", "http://***@h/x"),
            (
                "https://b.s3.amazonaws.com/k.mp3?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F&X-Amz-Signature=ab12&x=1",
                "https://b.s3.amazonaws.com/k.mp3?X-Amz-Algorithm=***&X-Amz-Credential=***&X-Amz-Signature=***&x=1",
            ),
            (
                "https://h/a?token=abc&sig=def&signature=g&key=k&api_key=z&v=dQw4w9WgXcQ&t=10",
                "https://h/a?token=***&sig=***&signature=***&key=***&api_key=***&v=dQw4w9WgXcQ&t=10",
            ),
            ("https://h/a?Access_Token=x", "https://h/a?Access_Token=***"),
            ("https://h/a?%74oken=x", "https://h/a?%74oken=***"),
            ("https://h/a#access_token=x&b=1", "https://h/a#access_token=***&b=1"),
            ("https://h/a#chapter-2", "https://h/a#chapter-2"),
            ("https://h/p@th?x=1", "https://h/p@th?x=1"),
            ("not a url", "not a url"),
            ("/local/path?token=x", "/local/path?token=x"),
        ] {
            assert_eq!(url(given), shown, "{given}");
        }
    }

    #[test]
    fn texts() {
        assert_eq!(
            text("error sending request for url (https://u:p@h/a?sig=1): connection refused"),
            "error sending request for url (https://***@h/a?sig=***): connection refused"
        );
        assert_eq!(
            text("\"http://a/?key=1\" and https://b/?token=2 end"),
            "\"http://a/?key=***\" and https://b/?token=*** end"
        );
        assert_eq!(text("no urls here"), "no urls here");
        assert_eq!(text("://odd"), "://odd");
    }

    #[test]
    fn secret_names() {
        for n in [
            "token",
            "SIG",
            "Signature",
            "X-Amz-Date",
            "x-goog-signature",
            "apikey",
            "password",
            "auth",
            "code",
        ] {
            assert!(is_secret_param(n), "{n}");
        }
        for n in ["v", "t", "list", "format", "start", "id"] {
            assert!(!is_secret_param(n), "{n}");
        }
    }
}
