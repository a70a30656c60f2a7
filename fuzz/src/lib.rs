//! The entry points the fuzz targets drive; `ytcaption/tests/fuzz_corpus.rs` includes the same
//! file to replay the committed corpora on stable.

#[path = "entries.rs"]
pub mod entries;
