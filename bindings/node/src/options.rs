//! Option objects from JavaScript onto the core's settings model.
//!
//! Every key of an options object is a field of the core's tables ([`yc::Settings::FIELDS`],
//! [`DECODE_FIELDS`], [`REQUEST_FIELDS`]) spelled in camelCase (`beamSize` is `beam_size`),
//! set by name from its JSON form: names, parsing, defaults and validation are the core's.
//! `undefined` and `null` keep a default; a key no table has is an `invalid_input` error.
//!
//! The TypeScript interfaces of these objects (`TranscribeOptions`, `EngineOptions`,
//! `PipelineOptions`, `SubmitOptions`) are written from the same tables by [`typings`]
//! (`npm run build` puts them into index.d.ts).

use napi::bindgen_prelude::{FromNapiValue, JsObjectValue, Object, Unknown};
use napi::{sys, ValueType};
use napi_derive::napi;
use serde_json::Value;
use yc::settings::{Field, FieldKind, Scope, DECODE_FIELDS, REQUEST_FIELDS};
use ytcaption as yc;

/// An options object as read from JavaScript: each own or inherited enumerable key with its
/// value as JSON, or why it has none (a function, a nested object, `Infinity`).
#[derive(Default)]
pub struct JsOptions(Vec<(String, Result<Value, String>)>);

impl FromNapiValue for JsOptions {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> napi::Result<Self> {
        // SAFETY: the caller passes a live `env` and one of its values.
        let obj = unsafe { Object::from_napi_value(env, v)? };
        let mut out = Vec::new();
        for key in Object::keys(&obj)? {
            let value: Unknown = obj.get_named_property(&key)?;
            out.push((key, to_json(&value)?));
        }
        Ok(JsOptions(out))
    }
}

/// A JavaScript value as JSON (`undefined` is `null`).
fn to_json(v: &Unknown) -> napi::Result<Result<Value, String>> {
    // SAFETY (each `cast`): the value's type was just checked.
    Ok(match v.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(Value::Null),
        ValueType::Boolean => Ok(Value::Bool(unsafe { v.cast::<bool>()? })),
        ValueType::String => Ok(Value::String(unsafe { v.cast::<String>()? })),
        ValueType::Number => {
            let x = unsafe { v.cast::<f64>()? };
            if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
                Ok(Value::from(x as i64))
            } else {
                serde_json::Number::from_f64(x)
                    .map(Value::Number)
                    .ok_or_else(|| format!("expected a finite number, got {x}"))
            }
        }
        other => Err(format!(
            "expected a boolean, a number or a string, got {}",
            format!("{other:?}").to_lowercase()
        )),
    })
}

/// What a call takes: engine settings, pipeline settings (all of them), one-shot options
/// (`language` and the decoding options) or a job's fields and the decoding options.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// The settings of scope `Engine`.
    Engine,
    /// Every setting (scopes `Engine` and `Pipeline`).
    Pipeline,
    /// `language` and the decoding options.
    Transcribe,
    /// A job's own fields and the decoding options.
    Request,
}

impl Takes {
    /// The snake_case names this takes, in the core's order.
    pub fn names(self) -> Vec<&'static str> {
        let settings = |all: bool| {
            // A setting's aliases too (`webhook_allowlist` for `allow_network`).
            yc::Settings::FIELDS
                .iter()
                .filter(move |f| all || f.scope == Scope::Engine)
                .flat_map(|f| std::iter::once(f.name).chain(f.aliases().iter().copied()))
        };
        let decode = || DECODE_FIELDS.iter().map(|f| f.name);
        match self {
            Takes::Engine => settings(false).collect(),
            Takes::Pipeline => settings(true).collect(),
            Takes::Transcribe => yc::TranscribeOptions::fields().collect(),
            Takes::Request => REQUEST_FIELDS
                .iter()
                .map(|f| f.name)
                .chain(decode())
                .collect(),
        }
    }
}

/// `beam_size` → `beamSize`.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `beamSize` → `beam_size`.
pub fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl JsOptions {
    /// The options split among the targets of a call (in the order given), by snake_case
    /// name: each key goes to the first target that takes it. A key none takes (or not
    /// spelled in camelCase), or a value JSON cannot hold, is an `invalid_input` error naming
    /// the key.
    pub fn split<const N: usize>(
        self,
        targets: [Takes; N],
    ) -> yc::Result<[Vec<(String, Value)>; N]> {
        let mut out: [Vec<_>; N] = std::array::from_fn(|_| Vec::new());
        let names = targets.map(Takes::names);
        for (key, value) in self.0 {
            let name = snake(&key);
            let target = (camel(&name) == key)
                .then(|| names.iter().position(|n| n.contains(&name.as_str())))
                .flatten();
            let Some(i) = target else {
                let known: Vec<String> = names.iter().flatten().map(|n| camel(n)).collect();
                return Err(yc::Error::invalid(format!(
                    "unknown option {key:?} (known: {})",
                    known.join(", ")
                )));
            };
            let value = value.map_err(|e| yc::Error::invalid(format!("{key}: {e}")))?;
            out[i].push((name, value));
        }
        Ok(out)
    }
}

/// Settings from named values (`null` keeps a default).
pub fn settings(values: impl IntoIterator<Item = (String, Value)>) -> yc::Result<yc::Settings> {
    let mut s = yc::Settings::default();
    for (name, value) in values {
        s.set_json(&name, value)?;
    }
    Ok(s)
}

/// One-shot options from named values, validated by the core.
pub fn transcribe_options(
    values: impl IntoIterator<Item = (String, Value)>,
) -> yc::Result<yc::TranscribeOptions> {
    let mut o = yc::TranscribeOptions::default();
    for (name, value) in values {
        o.set_json(&name, value)?;
    }
    o.validate()?;
    Ok(o)
}

/// The one-shot options of an options object that holds only those.
pub fn transcribe_only(options: Option<JsOptions>) -> yc::Result<yc::TranscribeOptions> {
    let [t] = options.unwrap_or_default().split([Takes::Transcribe])?;
    transcribe_options(t)
}

/// A job request for `input` from named values.
pub fn job_request(
    input: String,
    values: impl IntoIterator<Item = (String, Value)>,
) -> yc::Result<yc::JobRequest> {
    let mut req = yc::JobRequest::new(input);
    for (name, value) in values {
        req.set_json(&name, value)?;
    }
    Ok(req)
}

/// A field as a TypeScript property: its name (snake_case), doc and type.
fn property<T>(f: &Field<T>) -> (&'static str, &'static str, String) {
    let ty = match f.kind {
        FieldKind::Flag => "boolean".into(),
        FieldKind::Count | FieldKind::Number => "number".into(),
        FieldKind::Choice(words) => words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "string".into(),
    };
    (f.name, f.doc, ty)
}

/// One interface: its doc, name and optional properties (in camelCase, each with its doc
/// from the core).
fn interface(
    doc: &str,
    name: &str,
    properties: impl IntoIterator<Item = (&'static str, &'static str, String)>,
) -> String {
    let mut out = format!("/** {doc} */\nexport interface {name} {{\n");
    for (field, doc, ty) in properties {
        out += &format!(
            "  /** {} */\n  {}?: {ty}\n",
            doc.replace("*/", "*\\/"),
            camel(field)
        );
    }
    out + "}\n"
}

/// The TypeScript interfaces of the option objects, from the core's tables (`npm run build`
/// writes them into index.d.ts).
#[napi(skip_typescript, js_name = "__optionTypings")]
pub fn typings() -> String {
    let settings = || yc::Settings::FIELDS.iter().map(property);
    let engine = yc::Settings::FIELDS
        .iter()
        .filter(|f| f.scope == Scope::Engine)
        .map(property);
    // `language` is in the job's table, the decoding options in theirs.
    let language = REQUEST_FIELDS.iter().filter(|f| f.name == "language");
    let job = REQUEST_FIELDS.iter().filter(|f| f.name != "language");
    [
        "/* The option objects, written from the core's settings tables by `npm run build`. */\n"
            .to_string(),
        interface(
            "Which model to load, and how: options of `Engine.open()` and of the top-level \
             `transcribe()`. Every field is optional: unset fields keep the core's defaults.",
            "EngineOptions",
            engine,
        ),
        interface(
            "Options of `Pipeline.open()`: the engine's and the pipeline's settings. Every \
             field is optional: unset fields keep the core's defaults.",
            "PipelineOptions",
            settings(),
        ),
        interface(
            "Job options of `Pipeline.submit()`, besides the `TranscribeOptions`.",
            "SubmitOptions",
            job.map(property),
        ),
        interface(
            "How to transcribe: the spoken language and whisper.cpp's decoding options. Every \
             field is optional: unset fields keep the core's defaults.",
            "TranscribeOptions",
            language
                .map(property)
                .chain(DECODE_FIELDS.iter().map(property)),
        ),
    ]
    .join("\n")
}
