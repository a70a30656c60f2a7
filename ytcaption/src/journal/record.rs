//! How the sled journal writes and reads a record: a schema version, then JSON.
//!
//! * New records are `v1:` + JSON ([`RECORD_VERSION`]).
//! * A record without a version prefix was written by an earlier version (bare JSON): it is
//!   read as version 1, so existing homes keep working.
//! * A record with another version (`v2:` ...) was written by a newer build: it does not
//!   decode here, with an error that says so, rather than being misread.
//!
//! A record that does not decode is a [`crate::Error::Journal`] (`journal_error`): the journal
//! sets it aside ([`super::Journal::quarantined`]) and goes on with the others.

use crate::error::{Error, Result};

/// The schema version prefix of every record the sled journal writes.
pub const RECORD_VERSION: &[u8] = b"v1:";

/// The schema version this build writes and reads.
pub const CURRENT_VERSION: u32 = 1;

/// A record as written: [`RECORD_VERSION`] + JSON.
pub fn encode<T: serde::Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = RECORD_VERSION.to_vec();
    serde_json::to_writer(&mut out, value)?;
    Ok(out)
}

/// The schema version of `raw` and its JSON body: `v<N>:` + body, or bare JSON (version 1).
/// `None` for a prefix that names no version this build understands the shape of (`v` then
/// digits then `:`, the digits too many for a u32).
pub fn split(raw: &[u8]) -> (Option<u32>, &[u8]) {
    if let Some(rest) = raw.strip_prefix(b"v") {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && rest.get(digits) == Some(&b':') {
            let v = std::str::from_utf8(&rest[..digits])
                .ok()
                .and_then(|s| s.parse().ok());
            return (v, &rest[digits + 1..]);
        }
    }
    // Bare JSON, as earlier versions wrote it.
    (Some(CURRENT_VERSION), raw)
}

/// A record as read: version 1 with its prefix, or bare JSON (earlier versions, read as 1).
/// Another version, or a body that is not the JSON of `T`, is a `journal_error`.
pub fn decode<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T> {
    match split(raw) {
        (Some(CURRENT_VERSION), body) => serde_json::from_slice(body).map_err(Error::from),
        (Some(v), _) => Err(Error::journal(format!(
            "record version {v} is not one this build reads (it reads version \
             {CURRENT_VERSION}): written by a newer ytcaption?"
        ))),
        (None, _) => Err(Error::journal(
            "corrupt record: its version prefix is not a number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct R {
        a: u32,
    }

    #[test]
    fn new_records_carry_the_version_and_bare_json_reads_as_v1() {
        let raw = encode(&R { a: 7 }).unwrap();
        assert_eq!(raw, b"v1:{\"a\":7}");
        assert_eq!(decode::<R>(&raw).unwrap(), R { a: 7 });
        assert_eq!(decode::<R>(b"{\"a\":7}").unwrap(), R { a: 7 });
        assert_eq!(decode::<R>(b" {\"a\":8}").unwrap(), R { a: 8 });
    }

    #[test]
    fn other_versions_and_garbage_are_typed_errors() {
        let e = decode::<R>(b"v2:{\"a\":7}").unwrap_err();
        assert_eq!(e.code(), "journal_error");
        assert!(e.to_string().contains("record version 2"), "{e}");
        let e = decode::<R>(b"v99999999999:{}").unwrap_err();
        assert_eq!(e.code(), "journal_error");
        for bad in [
            &b""[..],
            b"v1:",
            b"v1:{\"a\":",
            b"\xff\xfe",
            b"v1:{\"a\":\"x\"}",
            b"vx:{}",
        ] {
            let e = decode::<R>(bad).unwrap_err();
            assert_eq!(e.code(), "journal_error", "{bad:?}");
        }
    }
}
