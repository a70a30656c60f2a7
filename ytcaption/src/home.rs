//! The home directory: journal, results, models and scratch space of one installation.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable naming the home directory.
pub const HOME_ENV: &str = "YTCAPTION_HOME";
/// Environment variable naming the model (a path or a name such as `base.en`).
pub const MODEL_ENV: &str = "YTCAPTION_MODEL";
/// The file in the models directory that names the default model.
const DEFAULT_MARKER: &str = "default";

/// The file name of the Silero VAD model bundled with the `bundled-vad` feature.
pub const BUNDLED_VAD_NAME: &str = "ggml-silero-v6.2.0.bin";

/// The Silero VAD model bundled with the `bundled-vad` feature (whisper.cpp's ggml format, MIT;
/// see `assets/LICENSE-silero-vad.md`).
#[cfg(feature = "bundled-vad")]
pub const BUNDLED_VAD: &[u8] = include_bytes!("../assets/ggml-silero-v6.2.0.bin");

/// Layout of a home directory:
///
/// ```text
/// <home>/journal/    the sled journal (one process at a time)
/// <home>/results/    the local result store: <job_id>/transcript.{json,srt,vtt,txt}
/// <home>/models/     ggml models (ggml-<name>.bin) and `default`, the default model's name
/// <home>/work/       per-job scratch space, removed when jobs end
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home at `root` (nothing is created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Home { root: root.into() }
    }

    /// `$YTCAPTION_HOME`, else the per-user data directory (`~/.local/share/ytcaption` on Linux).
    pub fn default_root() -> Result<PathBuf> {
        if let Some(h) = std::env::var_os(HOME_ENV).filter(|h| !h.is_empty()) {
            return Ok(PathBuf::from(h));
        }
        directories::ProjectDirs::from("", "", "ytcaption")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "cannot find a per-user data directory; set {HOME_ENV} or pass --home"
                ))
            })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the journal lives.
    pub fn journal_dir(&self) -> PathBuf {
        self.root.join("journal")
    }

    /// Where the local result store keeps files.
    pub fn results_dir(&self) -> PathBuf {
        self.root.join("results")
    }

    /// Where models live.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    /// Per-job scratch space.
    pub fn work_dir(&self) -> PathBuf {
        self.root.join("work")
    }

    /// Files uploaded to a service on this home (`ytcaption serve`), the sources of their jobs.
    pub fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    /// The result cache (downloaded media and transcripts, see [`Cache`](crate::cache::Cache)).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// The file a model name maps to: `base.en` → `<home>/models/ggml-base.en.bin`.
    pub fn model_file(&self, name: &str) -> PathBuf {
        self.models_dir().join(format!("ggml-{name}.bin"))
    }

    /// Records `name` (a file in the models dir, or a model name) as the default model.
    pub fn set_default_model(&self, name: &str) -> Result<()> {
        crate::fsutil::write(
            &self.models_dir().join(DEFAULT_MARKER),
            format!("{name}\n").as_bytes(),
        )
    }

    /// The models installed in the models dir, by name (`ggml-tiny.en.bin` → `tiny.en`), sorted.
    pub fn installed_models(&self) -> Vec<(String, PathBuf)> {
        let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(self.models_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let model = name
                    .strip_prefix("ggml-")?
                    .strip_suffix(".bin")?
                    .to_string();
                if model.starts_with("silero") {
                    return None;
                }
                Some((model, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    /// A Silero VAD model (`ggml-silero-*.bin`) in the models dir, the newest version first.
    pub fn vad_model(&self) -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.models_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("ggml-silero") && n.ends_with(".bin"))
            })
            .collect();
        found.sort();
        found.pop()
    }

    /// The home's Silero VAD model ([`vad_model`](Self::vad_model)); with the `bundled-vad`
    /// feature (on by default), when the models dir has none, the bundled
    /// [`BUNDLED_VAD_NAME`] is written there first, so every embedding chunks at Silero's
    /// pauses without a download. `None` without one (or when it cannot be written: the
    /// energy detector is used then, with a warning).
    pub fn vad_model_or_bundled(&self) -> Option<PathBuf> {
        if let Some(p) = self.vad_model() {
            return Some(p);
        }
        #[cfg(feature = "bundled-vad")]
        {
            let dest = self.models_dir().join(BUNDLED_VAD_NAME);
            match crate::fsutil::write(&dest, BUNDLED_VAD) {
                Ok(()) => return Some(dest),
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot write the bundled Silero VAD model; pauses are found by the energy detector"
                ),
            }
        }
        None
    }

    /// The name of the default model, when one is recorded or only one is installed.
    pub fn default_model(&self) -> Option<String> {
        if let Ok(s) = std::fs::read_to_string(self.models_dir().join(DEFAULT_MARKER)) {
            let s = s.trim();
            if !s.is_empty() {
                return Some(s.to_string());
            }
        }
        let installed = self.installed_models();
        if installed.len() == 1 {
            return Some(installed[0].0.clone());
        }
        ["base.en", "base", "small.en", "small", "tiny.en", "tiny"]
            .into_iter()
            .find(|n| installed.iter().any(|(m, _)| m == n))
            .map(str::to_string)
    }

    /// Finds the model to use: `spec` (a path, or a name in the models dir), else
    /// `$YTCAPTION_MODEL`, else the home's default model.
    pub fn resolve_model(&self, spec: Option<&str>) -> Result<PathBuf> {
        let env = std::env::var(MODEL_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        let chosen = spec
            .map(str::to_string)
            .or(env)
            .or_else(|| self.default_model());
        let Some(chosen) = chosen else {
            return Err(Error::ModelNotFound {
                path: self.models_dir(),
                hint: format!(
                    "no model installed; run `ytcaption model download tiny.en`, pass --model PATH or set {MODEL_ENV}"
                ),
            });
        };
        let as_path = PathBuf::from(&chosen);
        let looks_like_path = chosen.contains('/') || chosen.ends_with(".bin") || as_path.exists();
        let path = if looks_like_path {
            as_path
        } else {
            self.model_file(&chosen)
        };
        if !path.is_file() {
            return Err(Error::ModelNotFound {
                hint: format!(
                    "run `ytcaption model download {}` or pass --model PATH",
                    if looks_like_path {
                        "tiny.en"
                    } else {
                        chosen.as_str()
                    }
                ),
                path,
            });
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let err = home.resolve_model(Some("base.en")).unwrap_err();
        assert_eq!(err.code(), "model_not_found");
        assert!(err.to_string().contains("model download base.en"), "{err}");
        std::fs::create_dir_all(home.models_dir()).unwrap();
        std::fs::write(home.model_file("tiny.en"), b"x").unwrap();
        assert_eq!(home.default_model().as_deref(), Some("tiny.en"));
        assert_eq!(
            home.resolve_model(Some("tiny.en")).unwrap(),
            home.model_file("tiny.en")
        );
        std::fs::write(home.model_file("base"), b"x").unwrap();
        assert_eq!(home.default_model().as_deref(), Some("base"));
        home.set_default_model("tiny.en").unwrap();
        assert_eq!(home.default_model().as_deref(), Some("tiny.en"));
        let explicit = dir.path().join("mine.bin");
        std::fs::write(&explicit, b"x").unwrap();
        assert_eq!(home.resolve_model(explicit.to_str()).unwrap(), explicit);
        assert_eq!(
            home.installed_models()
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>(),
            ["base", "tiny.en"]
        );
    }
}
