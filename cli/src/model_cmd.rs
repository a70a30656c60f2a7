//! `ytcaption model ...`: import, quantize, download, list, inspect.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ytcaption::model::{self, DownloadOptions, ImportOptions, QuantType};
use ytcaption::{Error, Home};

/// Model subcommands.
#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Convert a CTranslate2 (faster-whisper) Whisper model directory to a ggml file
    Import {
        /// Directory with model.bin (or model.bin.part1, .part2, ...) and vocabulary.txt|json
        ct2_dir: PathBuf,
        /// Output file [default: <home>/models/ggml-<name>.bin (ggml-<name>-<TYPE>.bin when
        /// quantized), the name read from the model]
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Quantize the weights: q8_0, q5_1, q5_0, q4_1 or q4_0 (as `model quantize` would the
        /// f16 import)
        #[arg(short, long, value_name = "TYPE")]
        quantize: Option<String>,
    },
    /// Quantize an f16/f32 ggml model (q8_0: ~half the size, faster on CPUs), as whisper.cpp's
    /// quantize tool does
    Quantize {
        /// ggml model file or installed model name
        model: String,
        /// Output file [default: next to the input, `-<TYPE>` added to its name:
        /// ggml-tiny.en.bin → ggml-tiny.en-q8_0.bin]
        output: Option<PathBuf>,
        /// Quantization: q8_0, q5_1, q5_0, q4_1 or q4_0
        #[arg(long = "type", value_name = "TYPE", default_value = "q8_0")]
        qtype: String,
    },
    /// Download a ggml model by name (tiny, tiny.en, base, base.en, small, ...), checksum-verified
    Download {
        /// Model name
        name: String,
        /// Output file [default: <home>/models/ggml-<name>.bin]
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Base URL [env: YTCAPTION_MODEL_BASE_URL; default: whisper.cpp's Hugging Face repository]
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Download again even when a verified file is present
        #[arg(long)]
        force: bool,
    },
    /// List the models in the home's models dir (* marks the default)
    List {
        /// Also list the models `download` knows
        #[arg(long)]
        available: bool,
    },
    /// Print a model file's header (hyper-parameters, type, languages)
    Inspect {
        /// ggml model file or installed model name
        model: String,
    },
    /// Make an installed model the home's default
    Default {
        /// Model name (as in `model list`)
        name: String,
    },
}

fn bytes_bar(len: Option<u64>, what: &str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Installs `path` as the home's default model when the home has none yet.
fn adopt_as_default(home: &Home, path: &std::path::Path) {
    if path.parent() == Some(home.models_dir().as_path()) && home.default_model().is_none() {
        if let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("ggml-"))
            .and_then(|n| n.strip_suffix(".bin"))
        {
            let _ = home.set_default_model(name);
        }
    }
}

/// Runs a model command; `allow_network` is the egress allowlist of `model download`.
pub async fn run(
    home: &Home,
    allow_network: &ytcaption::Allowlist,
    command: ModelCommand,
) -> ytcaption::Result<()> {
    match command {
        ModelCommand::Import {
            ct2_dir,
            output,
            quantize,
        } => {
            let qtype = quantize
                .as_deref()
                .map(str::parse::<QuantType>)
                .transpose()?;
            let options = ImportOptions::default().quantize(qtype);
            let output = match output {
                Some(o) => o,
                None => {
                    // Name the file after what the model is (tiny.en, base, ...).
                    let tmp = home.models_dir().join(".import.tmp.bin");
                    let path = import(&ct2_dir, &tmp, options).await?;
                    let mut name = model::inspect(&path)?.name();
                    if let Some(q) = qtype {
                        name = format!("{name}-{q}");
                    }
                    let dest = home.model_file(&name);
                    std::fs::rename(&path, &dest).map_err(|e| {
                        Error::io(format!("moving the model to {}", dest.display()), e)
                    })?;
                    adopt_as_default(home, &dest);
                    println!("{}", dest.display());
                    return Ok(());
                }
            };
            let path = import(&ct2_dir, &output, options).await?;
            adopt_as_default(home, &path);
            println!("{}", path.display());
            Ok(())
        }
        ModelCommand::Quantize {
            model: spec,
            output,
            qtype,
        } => {
            let qtype: QuantType = qtype.parse()?;
            let input = home.resolve_model(Some(&spec))?;
            let output = match output {
                Some(o) => o,
                None => quantized_name(&input, qtype)?,
            };
            let pb = bytes_bar(None, &format!("quantizing to {qtype}"));
            let bar = pb.clone();
            let out = output.clone();
            let res = tokio::task::spawn_blocking(move || {
                model::quantize(&input, &out, qtype, &mut |p| {
                    bar.set_length(p.bytes_total);
                    bar.set_position(p.bytes_done);
                })
            })
            .await
            .map_err(|e| Error::ModelInvalid {
                message: format!("quantization panicked: {e}"),
            })?;
            pb.finish_and_clear();
            let report = res?;
            eprintln!(
                "{}: {} → {}, {:.1} MiB → {:.1} MiB, {} of {} tensors quantized in {:.1} s",
                report.output.display(),
                report.source_ftype,
                report.qtype,
                report.source_bytes as f64 / 1048576.0,
                report.bytes as f64 / 1048576.0,
                report.tensors_quantized,
                report.tensors,
                report.elapsed.as_secs_f64()
            );
            adopt_as_default(home, &report.output);
            println!("{}", report.output.display());
            Ok(())
        }
        ModelCommand::Download {
            name,
            output,
            base_url,
            force,
        } => {
            let dir = match &output {
                Some(o) => o
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(".")),
                None => home.models_dir(),
            };
            let opts = DownloadOptions {
                base_url,
                force,
                allow_network: Some(allow_network.clone()),
                ..Default::default()
            };
            let pb = bytes_bar(None, &format!("downloading {name}"));
            let bar = pb.clone();
            let mut progress = move |done: u64, total: Option<u64>| {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(done);
            };
            let res = model::download::download(&name, &dir, &opts, &mut progress).await;
            pb.finish_and_clear();
            let mut path = res?;
            if let Some(o) = output {
                if o != path {
                    std::fs::rename(&path, &o).map_err(|e| {
                        Error::io(format!("moving the model to {}", o.display()), e)
                    })?;
                    path = o;
                }
            }
            adopt_as_default(home, &path);
            println!("{}", path.display());
            Ok(())
        }
        ModelCommand::List { available } => {
            let default = home.default_model();
            let models = home.installed_models();
            if models.is_empty() {
                eprintln!(
                    "no models in {}; run `ytcaption model download tiny.en`",
                    home.models_dir().display()
                );
            }
            for (name, path) in models {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let mark = if default.as_deref() == Some(name.as_str()) {
                    "*"
                } else {
                    " "
                };
                println!(
                    "{mark} {name:<20} {:>8.1} MiB  {}",
                    size as f64 / 1048576.0,
                    path.display()
                );
            }
            if available {
                println!("\navailable for `ytcaption model download`:");
                for m in model::KNOWN_MODELS {
                    println!(
                        "  {:<20} ~{:>6.0} MiB",
                        m.name,
                        m.size_bytes as f64 / 1048576.0
                    );
                }
            }
            Ok(())
        }
        ModelCommand::Inspect { model: spec } => {
            let path = home.resolve_model(Some(&spec))?;
            let info = model::inspect(&path)?;
            let h = &info.hparams;
            println!("file:          {}", path.display());
            println!("model:         {}", info.name());
            println!("type:          {}", info.ftype_name);
            println!(
                "languages:     {}",
                if info.is_multilingual {
                    "multilingual"
                } else {
                    "English only"
                }
            );
            println!(
                "size:          {:.1} MiB",
                info.file_size as f64 / 1048576.0
            );
            println!("hparams:       {:?}", h.to_array());
            Ok(())
        }
        ModelCommand::Default { name } => {
            home.resolve_model(Some(&name))?;
            home.set_default_model(&name)?;
            println!("default model: {name}");
            Ok(())
        }
    }
}

/// `ggml-tiny.en.bin` → `ggml-tiny.en-q8_0.bin`, in the same directory.
fn quantized_name(input: &std::path::Path, qtype: QuantType) -> ytcaption::Result<PathBuf> {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::invalid(format!("{} has no file name", input.display())))?;
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("bin");
    Ok(input.with_file_name(format!("{stem}-{qtype}.{ext}")))
}

async fn import(
    ct2_dir: &std::path::Path,
    output: &std::path::Path,
    options: ImportOptions,
) -> ytcaption::Result<PathBuf> {
    let pb = bytes_bar(None, "importing");
    let bar = pb.clone();
    let (dir, out) = (ct2_dir.to_path_buf(), output.to_path_buf());
    let res = tokio::task::spawn_blocking(move || {
        model::import_ct2_with(&dir, &out, &options, &mut |p| {
            bar.set_length(p.bytes_total);
            bar.set_position(p.bytes_done);
        })
    })
    .await
    .map_err(|e| Error::ModelInvalid {
        message: format!("import panicked: {e}"),
    })?;
    pb.finish_and_clear();
    Ok(res?.output)
}
