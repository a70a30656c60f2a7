use super::*;
use crate::options::DecodeOptions;

#[test]
fn defaults_validate() {
    Settings::default().validate().unwrap();
    assert_eq!(Settings::default().chunk_seconds, 16.0);
}

#[test]
fn set_by_name_from_text() {
    let mut s = Settings::default();
    s.set("threads", "3").unwrap();
    s.set("chunk_seconds", "40").unwrap();
    s.set("cache", "yes").unwrap();
    s.set("vad_model", "/m/ggml-silero.bin").unwrap();
    s.set("max_duration_seconds", "600").unwrap();
    assert_eq!(s.threads, 3);
    assert_eq!(s.chunk_seconds, 40.0);
    assert!(s.cache);
    assert_eq!(s.vad_model, Some(PathBuf::from("/m/ggml-silero.bin")));
    assert_eq!(s.max_duration_seconds, Some(600));
    // An empty text unsets an optional field.
    s.set("vad_model", "").unwrap();
    assert_eq!(s.vad_model, None);
    let e = s.set("threads", "-1").unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("threads"), "{e}");
    let e = s.set("no_such_thing", "1").unwrap_err();
    assert!(e.to_string().contains("unknown setting"), "{e}");
}

#[test]
fn set_by_name_from_json() {
    let mut s = Settings::default();
    // JavaScript numbers are doubles: a whole one is a count.
    s.set_json("parallel_chunks", serde_json::json!(2.0))
        .unwrap();
    assert_eq!(s.parallel_chunks, 2);
    assert!(s
        .set_json("parallel_chunks", serde_json::json!(2.5))
        .is_err());
    assert!(s
        .set_json("parallel_chunks", serde_json::json!(-1))
        .is_err());
    assert!(s.set_json("cache", serde_json::json!(1)).is_err());
    // null leaves a required field alone and clears an optional one.
    s.set_json("parallel_chunks", Value::Null).unwrap();
    assert_eq!(s.parallel_chunks, 2);
    s.set_json("model", serde_json::json!("tiny.en")).unwrap();
    s.set_json("model", Value::Null).unwrap();
    assert_eq!(s.model, None);
}

#[test]
fn no_chunking_is_zero_and_nothing_else() {
    let mut s = Settings::default();
    s.set("chunk_seconds", "0").unwrap();
    assert!(!s.chunking().unwrap().target_seconds.is_finite());
    s.chunk_seconds = f64::INFINITY;
    let e = s.validate().unwrap_err();
    assert!(e.to_string().contains("0 for no chunking"), "{e}");
    s.chunk_seconds = 3.0;
    let e = s.validate().unwrap_err();
    assert!(e.to_string().contains("chunk_seconds"), "{e}");
    assert!(s.set("chunk_seconds", "inf").is_err());
}

#[test]
fn validation_names_the_field() {
    for (name, value) in [
        ("parallel_chunks", "65"),
        ("max_size_mb", "0"),
        ("download_attempts", "0"),
        ("max_attempts", "0"),
        ("webhook_retry_delay", "-1"),
        ("webhook_secret", "hunter2"),
        ("allow_network", "10.0.0.0/99"),
    ] {
        let mut s = Settings::default();
        s.set(name, value).unwrap();
        let e = s.validate().unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains(name), "{name}: {e}");
    }
}

#[test]
fn secrets_are_never_printed() {
    let mut s = Settings::default();
    s.set("webhook_secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .unwrap();
    s.validate().unwrap();
    let shown = format!("{s:?}");
    assert!(!shown.contains("MfKQ9r8"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
    assert_eq!(
        s.webhook_secret.as_ref().unwrap().expose(),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    );
}

#[test]
fn every_field_is_settable_and_serde_agrees_on_names() {
    // The table and the struct name the same fields: set each from JSON and read it back.
    let json = serde_json::to_value(Settings::default()).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), Settings::FIELDS.len());
    for f in Settings::FIELDS {
        assert!(
            json.get(f.name).is_some(),
            "{} is not a Settings field",
            f.name
        );
    }
    let json = serde_json::to_value(DecodeOptions::default()).unwrap();
    assert_eq!(json.as_object().unwrap().len(), DECODE_FIELDS.len());
    for f in DECODE_FIELDS {
        assert!(
            json.get(f.name).is_some(),
            "{} is not a decode option",
            f.name
        );
    }
}

#[test]
fn help_texts_give_the_real_defaults() {
    // A help text's "[default: N]" (a number or a flag) is the struct's default: bindings'
    // typings and the CLI's help are made from these texts.
    fn check(json: &serde_json::Value, name: &str, doc: &str) -> bool {
        let Some(d) = doc
            .rsplit_once("[default: ")
            .and_then(|(_, d)| d.strip_suffix(']'))
        else {
            return false;
        };
        let Ok(said) = serde_json::from_str::<serde_json::Value>(d) else {
            return false; // a description, not a value
        };
        let real = &json[name];
        let same = match (said.as_f64(), real.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6, // f32 fields
            _ => said == *real,
        };
        assert!(same, "{name}: the help says {said}, the default is {real}");
        true
    }
    let json = serde_json::to_value(Settings::default()).unwrap();
    let mut checked = 0;
    for f in Settings::FIELDS {
        checked += check(&json, f.name, f.doc) as usize;
    }
    let json = serde_json::to_value(DecodeOptions::default()).unwrap();
    for f in DECODE_FIELDS {
        checked += check(&json, f.name, f.doc) as usize;
    }
    assert!(checked >= 10, "{checked}");
}

#[test]
fn requests_take_job_fields_and_decode_options() {
    let mut r = JobRequest::new("x.wav");
    r.set("priority", "HIGH").unwrap();
    r.set("language", "english").unwrap();
    r.set("temperature", "0.4").unwrap();
    r.set("initial_prompt", "Kennedy").unwrap();
    r.set_json("word_timestamps", serde_json::json!(true))
        .unwrap();
    assert_eq!(r.priority, crate::job::Priority::High);
    assert_eq!(r.language.code(), Some("en"));
    assert_eq!(r.options.temperature, 0.4);
    assert_eq!(r.options.initial_prompt.as_deref(), Some("Kennedy"));
    assert!(r.options.word_timestamps);
    assert!(r.set("language", "klingon").is_err());
    assert!(r.set("priority", "urgent").is_err());
    // From JSON too, a choice is matched without regard to case.
    r.set_json("priority", serde_json::json!("Low")).unwrap();
    assert_eq!(r.priority, crate::job::Priority::Low);
    assert!(r.set_json("priority", serde_json::json!("urgent")).is_err());
    assert!(JobRequest::has_field("beam_size") && JobRequest::has_field("priority"));
    assert!(!JobRequest::has_field("threads"));
    // An unknown name lists the job fields and the decoding options.
    for e in [
        r.set("threads", "2").unwrap_err(),
        r.set_json("threads", serde_json::json!(2)).unwrap_err(),
    ] {
        assert_eq!(e.code(), "invalid_input");
        let m = e.to_string();
        assert!(m.contains("unknown job field \"threads\""), "{m}");
        assert!(m.contains("priority") && m.contains("beam_size"), "{m}");
    }
    let mut t = TranscribeOptions::default();
    t.set("beam_size", "5").unwrap();
    t.set_json("language", serde_json::json!("es")).unwrap();
    assert_eq!(t.decode.beam_size, Some(5));
    assert!(TranscribeOptions::has_field("language"));
    assert!(!TranscribeOptions::has_field("priority"));
}

#[test]
fn env_variables_by_field_name() {
    // Only this test sets these variables.
    std::env::set_var("YTCAPTION_CHUNK_RETRIES", "7");
    std::env::set_var("YTCAPTION_WEBHOOK_MAX_AGE", " ");
    let s = Settings::from_env().unwrap();
    assert_eq!(s.chunk_retries, 7);
    assert_eq!(s.webhook_max_age, 86400.0);
    std::env::set_var("YTCAPTION_CHUNK_RETRIES", "many");
    let e = Settings::from_env().unwrap_err();
    assert!(e.to_string().contains("YTCAPTION_CHUNK_RETRIES"), "{e}");
    std::env::remove_var("YTCAPTION_CHUNK_RETRIES");
    std::env::remove_var("YTCAPTION_WEBHOOK_MAX_AGE");
}

#[test]
fn thread_plan_never_exceeds_the_budget() {
    let cores = available_cores();
    for threads in 0..=2 * cores + 1 {
        for parallel_chunks in 0..=6 {
            for workers in 1..=6 {
                let s = Settings {
                    threads,
                    parallel_chunks,
                    ..Settings::default()
                };
                let p = s.thread_plan(workers);
                let what =
                    format!("threads {threads} -p {parallel_chunks} workers {workers}: {p:?}");
                assert!(p.budget >= 1 && p.budget <= cores, "{what}");
                if threads > 0 {
                    assert_eq!(p.budget, threads.min(cores), "{what}");
                }
                assert!(p.parallel >= 1 && p.per_call >= 1, "{what}");
                // The calls that may run at once, all jobs together, fit the budget...
                assert!(p.concurrent_calls * p.per_call <= p.budget, "{what}");
                // ...and where every worker can have a thread, no call ever waits for one.
                if workers <= p.budget {
                    assert!(workers * p.parallel * p.per_call <= p.budget, "{what}");
                    assert!(p.concurrent_calls >= workers * p.parallel, "{what}");
                }
                let clamped = threads > cores || parallel_chunks > (p.budget / workers).max(1);
                assert_eq!(!p.notes.is_empty(), clamped, "{what}");
            }
        }
    }
}

#[test]
fn thread_plan_default_uses_the_cores_once() {
    let cores = available_cores();
    let p = Settings::default().thread_plan(1);
    assert_eq!(p.parallel, cores.min(4));
    assert_eq!(p.per_call, (cores / p.parallel).clamp(1, 8));
    // `-t N` with N the cores (whisper.cpp's habit) is the same plan as the default.
    let t = Settings {
        threads: cores,
        ..Settings::default()
    }
    .thread_plan(1);
    assert_eq!(t.parallel, p.parallel);
    if cores <= 32 {
        assert_eq!(t.per_call, p.per_call);
    }
    assert!(t.notes.is_empty() && p.notes.is_empty());
}

#[test]
fn allow_network_has_the_webhook_allowlist_as_alias() {
    let mut s = Settings::default();
    s.set("webhook_allowlist", "127.0.0.1, localhost").unwrap();
    assert_eq!(s.allow_network.as_deref(), Some("127.0.0.1, localhost"));
    assert!(s.allowlist().unwrap().admits_host("localhost"));
    assert_eq!(s.download_config().allow_network, s.allowlist().unwrap());
    assert_eq!(
        s.webhook_config().unwrap().allowlist,
        s.allowlist().unwrap()
    );
    s.set_json("allow_network", serde_json::json!("10.0.0.0/8"))
        .unwrap();
    assert!(s
        .allowlist()
        .unwrap()
        .admits_ip("10.1.1.1".parse().unwrap()));
    // The older name in a serialized settings object.
    let old: Settings = serde_json::from_str(r#"{"webhook_allowlist":"::1"}"#).unwrap();
    assert_eq!(old.allow_network.as_deref(), Some("::1"));
    let f = Settings::field("allow_network").unwrap();
    assert_eq!(
        f.env_vars(),
        ["YTCAPTION_ALLOW_NETWORK", "YTCAPTION_WEBHOOK_ALLOWLIST"]
    );
    assert!(Settings::field("webhook_allowlist").is_some());
    // Unset: public addresses only.
    assert!(Settings::default()
        .download_config()
        .allow_network
        .is_empty());
}

#[cfg(feature = "bundled-vad")]
#[test]
fn an_empty_home_gets_the_bundled_silero_model_unless_energy_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path());
    let mut s = Settings::default();
    s.set("vad_model", ENERGY_DETECTOR).unwrap();
    assert_eq!(s.engine_config(&home).unwrap().vad_model, None);
    assert!(!home.models_dir().exists(), "energy writes nothing");

    let s = Settings::default();
    let vad = s.engine_config(&home).unwrap().vad_model.unwrap();
    assert_eq!(vad, home.models_dir().join(crate::home::BUNDLED_VAD_NAME));
    assert_eq!(std::fs::read(&vad).unwrap(), crate::home::BUNDLED_VAD);
    // It is the home's model from now on (found, not written again).
    let before = std::fs::metadata(&vad).unwrap().modified().unwrap();
    assert_eq!(s.engine_config(&home).unwrap().vad_model, Some(vad.clone()));
    assert_eq!(std::fs::metadata(&vad).unwrap().modified().unwrap(), before);
    // A home with its own Silero model keeps it.
    let other = tempfile::tempdir().unwrap();
    let own = Home::new(other.path());
    std::fs::create_dir_all(own.models_dir()).unwrap();
    std::fs::write(own.models_dir().join("ggml-silero-v9.bin"), b"x").unwrap();
    assert_eq!(
        s.engine_config(&own).unwrap().vad_model,
        Some(own.models_dir().join("ggml-silero-v9.bin"))
    );
}
