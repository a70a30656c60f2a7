//! `ytcaption model ...`

use clap::Subcommand;
use ytcaption::Home;

/// Model subcommands.
#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// List the models in the home's models dir (* marks the default)
    List,
}

pub async fn run(home: &Home, command: ModelCommand) -> ytcaption::Result<()> {
    match command {
        ModelCommand::List => {
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
            Ok(())
        }
    }
}
