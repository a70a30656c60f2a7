//! The CLI's integration tests, in one test binary (each file is a module; one binary links
//! once instead of once per file). Run one file's tests with a filter:
//! `cargo test --release -p ytcaption-cli --test it crash::`
//! (the file `serve_api.rs` is `serve.rs`'s tests: `serve` is the shared helpers' module).

#[path = "../../../testsupport/loopback.rs"]
mod loopback;
#[path = "../../../testsupport/postgres.rs"]
mod pg;
#[path = "../../../testsupport/serve.rs"]
mod serve;
#[path = "../../../testsupport/services.rs"]
mod services;
#[path = "../../../testsupport/mod.rs"]
mod support;

mod bad_input;
mod crash;
mod crash_storm;
mod help;
mod info;
mod journal_quarantine;
mod logs;
mod memory;
mod metrics;
mod pg_chaos;
mod pg_fanout;
mod pg_netns;
mod prometheus;
mod resume;
mod serve_api;
mod serve_auth;
mod serve_openai;
mod serve_openapi;
mod transcribe;
mod urls;
mod web;
mod webhooks;
