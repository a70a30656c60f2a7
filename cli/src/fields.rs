//! Flags generated from the core's field tables ([`Settings::FIELDS`], [`DECODE_FIELDS`],
//! [`REQUEST_FIELDS`]): one flag per field, `--kebab-name`, the field's aliases as visible
//! aliases, the field's doc as its help. The CLI keeps no list of option names of its own: the
//! parsed text goes to the core's `set(name, text)`, which parses and checks it, so an error is
//! the core's `invalid_input` naming the field.

use std::marker::PhantomData;

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde_json::Value;
use ytcaption::settings::{Field, FieldKind, Scope, DECODE_FIELDS, REQUEST_FIELDS};
use ytcaption::{DecodeOptions, Settings, TranscribeOptions};

/// Short flags the CLI has always had, whisper.cpp style: (field, letter). Two fields may share
/// a letter when no command takes both (`-p`: parallel chunks, a job's priority).
const SHORT: &[(&str, char)] = &[
    ("model", 'm'),
    ("threads", 't'),
    ("parallel_chunks", 'p'),
    ("workers", 'w'),
    ("language", 'l'),
    ("priority", 'p'),
];

/// Settings taken by a flag of the CLI's own: `--home` is global and also picks the home of
/// `model` commands.
const OWN_FLAG: &[&str] = &["home"];

/// Engine settings that are global flags: every command may connect out (downloads at
/// `transcribe` and `worker`, webhook checks at `jobs submit`, `model download`).
const GLOBAL_ENGINE: &[&str] = &["allow_network"];

/// Pipeline settings that only matter while jobs run: flags of `worker`. The other pipeline
/// settings (store, webhooks) are global flags, as every command that opens a pipeline uses them.
const WORKER_ONLY: &[&str] = &["workers", "max_attempts", "retention_days"];

/// One generated flag.
#[derive(Debug, Clone)]
pub struct Spec {
    name: &'static str,
    kind: FieldKind,
    doc: &'static str,
    aliases: &'static [&'static str],
    /// The environment variable [`Settings::from_env`] reads for it (settings only).
    env: Option<String>,
    /// A flag (true/false) field whose default is true: the flag is `--no-<name>`.
    default_on: bool,
    global: bool,
    heading: &'static str,
}

impl Spec {
    fn new<T>(f: &Field<T>, defaults: &Value, heading: &'static str) -> Spec {
        Spec {
            name: f.name,
            kind: f.kind,
            doc: f.doc,
            aliases: f.aliases(),
            env: None,
            default_on: defaults.get(f.name) == Some(&Value::Bool(true)),
            global: false,
            heading,
        }
    }

    fn setting(f: &Field<Settings>, defaults: &Value, heading: &'static str) -> Spec {
        Spec {
            env: Some(f.env_var()),
            ..Spec::new(f, defaults, heading)
        }
    }

    fn is_flag(&self) -> bool {
        matches!(self.kind, FieldKind::Flag)
    }

    /// The flag's long name (and an alias's): `--chunk-seconds`; `--no-local-files` for a
    /// flag field that is on by default.
    fn long(&self, name: &str) -> String {
        let kebab = name.replace('_', "-");
        if self.is_flag() && self.default_on {
            format!("no-{kebab}")
        } else {
            kebab
        }
    }

    fn value_name(&self) -> String {
        match self.kind {
            FieldKind::Count => "N".into(),
            FieldKind::Number => "NUMBER".into(),
            FieldKind::Path => "PATH".into(),
            FieldKind::Secret => "SECRET".into(),
            FieldKind::Choice(words) => words.join("|"),
            _ => "TEXT".into(),
        }
    }

    fn help(&self) -> String {
        let mut h = if self.is_flag() && self.default_on {
            format!("Turn this off: {}", self.doc)
        } else {
            self.doc.to_string()
        };
        if let Some(env) = &self.env {
            h.push_str(&format!(" [env: {env}]"));
        }
        h
    }

    fn arg(&self) -> Arg {
        let mut a = Arg::new(self.name)
            .long(self.long(self.name))
            .visible_aliases(self.aliases.iter().map(|a| self.long(a)))
            .help(self.help())
            .help_heading(self.heading)
            .global(self.global);
        if let Some((_, c)) = SHORT.iter().find(|(n, _)| *n == self.name) {
            a = a.short(*c);
        }
        if self.is_flag() {
            a.action(ArgAction::SetTrue)
        } else {
            a.action(ArgAction::Set)
                .value_name(self.value_name())
                .value_parser(clap::value_parser!(String))
                .allow_negative_numbers(matches!(self.kind, FieldKind::Number))
        }
    }
}

/// The default settings as JSON, to tell which flag fields are on by default.
fn settings_defaults() -> Value {
    serde_json::to_value(Settings::default()).unwrap_or(Value::Null)
}

/// A set of fields that become flags of one command.
pub trait FieldSet {
    /// The flags, in the tables' order.
    fn specs() -> Vec<Spec>;
}

/// Engine settings: model, threads, chunking, VAD, downloads, cache (`transcribe`, `worker`).
#[derive(Debug, Clone)]
pub struct EngineFlags;

impl FieldSet for EngineFlags {
    fn specs() -> Vec<Spec> {
        let d = settings_defaults();
        Settings::FIELDS
            .iter()
            .filter(|f| {
                f.scope == Scope::Engine
                    && !OWN_FLAG.contains(&f.name)
                    && !GLOBAL_ENGINE.contains(&f.name)
            })
            .map(|f| Spec::setting(f, &d, "Engine"))
            .collect()
    }
}

/// Pipeline settings of a running worker (workers, attempts).
#[derive(Debug, Clone)]
pub struct WorkerFlags;

impl FieldSet for WorkerFlags {
    fn specs() -> Vec<Spec> {
        let d = settings_defaults();
        Settings::FIELDS
            .iter()
            .filter(|f| f.scope == Scope::Pipeline && WORKER_ONLY.contains(&f.name))
            .map(|f| Spec::setting(f, &d, "Worker"))
            .collect()
    }
}

/// Settings every command takes: the network allowlist, result store and webhooks (global
/// flags).
#[derive(Debug, Clone)]
pub struct GlobalFlags;

impl FieldSet for GlobalFlags {
    fn specs() -> Vec<Spec> {
        let d = settings_defaults();
        Settings::FIELDS
            .iter()
            .filter(|f| {
                GLOBAL_ENGINE.contains(&f.name)
                    || (f.scope == Scope::Pipeline && !WORKER_ONLY.contains(&f.name))
            })
            .map(|f| Spec {
                global: true,
                ..Spec::setting(f, &d, "Network, results and webhooks")
            })
            .collect()
    }
}

/// What one transcription takes: its language and the decoding options (`transcribe`).
#[derive(Debug, Clone)]
pub struct TranscribeFlags;

impl FieldSet for TranscribeFlags {
    fn specs() -> Vec<Spec> {
        REQUEST_FIELDS
            .iter()
            .filter(|f| TranscribeOptions::has_field(f.name))
            .map(|f| Spec::new(f, &Value::Null, "Transcription"))
            .chain(decode_specs())
            .collect()
    }
}

/// What a job takes: the job fields and the decoding options (`jobs submit`).
#[derive(Debug, Clone)]
pub struct JobFlags;

impl FieldSet for JobFlags {
    fn specs() -> Vec<Spec> {
        REQUEST_FIELDS
            .iter()
            .map(|f| Spec::new(f, &Value::Null, "Job"))
            .chain(decode_specs())
            .collect()
    }
}

fn decode_specs() -> impl Iterator<Item = Spec> {
    let d = serde_json::to_value(DecodeOptions::default()).unwrap_or(Value::Null);
    DECODE_FIELDS
        .iter()
        .map(move |f| Spec::new(f, &d, "Decoding"))
}

/// The flags of a [`FieldSet`] that were given: (field name, text for the core's `set`).
pub struct Fields<S> {
    values: Vec<(&'static str, String)>,
    set: PhantomData<S>,
}

impl<S> Clone for Fields<S> {
    fn clone(&self) -> Self {
        Fields {
            values: self.values.clone(),
            set: PhantomData,
        }
    }
}

impl<S> std::fmt::Debug for Fields<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: a value may be a secret.
        f.debug_list()
            .entries(self.values.iter().map(|(n, _)| n))
            .finish()
    }
}

impl<S> Fields<S> {
    /// Hands every given flag to `set` (`Settings::set`, `JobRequest::set`, ...) in the
    /// tables' order; the first error stops.
    pub fn apply(
        &self,
        mut set: impl FnMut(&str, &str) -> ytcaption::Result<()>,
    ) -> ytcaption::Result<()> {
        self.values.iter().try_for_each(|(n, v)| set(n, v))
    }
}

impl<S: FieldSet> Args for Fields<S> {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(S::specs().iter().map(Spec::arg))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<S: FieldSet> FromArgMatches for Fields<S> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut values = Vec::new();
        for s in S::specs() {
            if s.is_flag() {
                if m.get_flag(s.name) {
                    // `--cache` turns a field on, `--no-local-files` off.
                    values.push((s.name, (!s.default_on).to_string()));
                }
            } else if let Some(v) = m.get_one::<String>(s.name) {
                values.push((s.name, v.clone()));
            }
        }
        Ok(Fields {
            values,
            set: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}
