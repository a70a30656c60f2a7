//! `ytcaption keys create|list|revoke`: the home's API keys for `ytcaption serve`. They live in
//! `<home>/keys.json` (not the journal), so these commands work while `serve` runs on the same
//! home; the server sees a change at its next request.

use std::io::Write;

use clap::Subcommand;
use ytcaption::keys::{KeyScope, KeyStore};
use ytcaption::{Error, Home};

/// `keys` subcommands.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key: its secret is printed once, alone on the first line of stdout (only a
    /// hash is kept); its id and name follow on stderr
    Create {
        /// A name for people (unique among active keys)
        #[arg(long)]
        name: String,
        /// user: its own jobs; admin: every job, keys, retention, the cache
        #[arg(long, default_value = "user", value_parser = ["user", "admin"])]
        scope: String,
    },
    /// List the keys (id, name, scope, created, revoked; never secrets)
    List {
        /// One JSON object per key instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id or name: the server refuses it from its next request on
    Revoke {
        /// The key's id (key_…) or name
        key: String,
    },
}

/// Runs a `keys` subcommand on `home`.
pub fn run(home: &Home, command: KeysCommand) -> ytcaption::Result<()> {
    let store = KeyStore::of_home(home);
    let mut out = std::io::stdout().lock();
    let w = |e: std::io::Error| Error::io("writing to stdout", e);
    match command {
        KeysCommand::Create { name, scope } => {
            let scope: KeyScope = scope.parse()?;
            let (key, secret) = store.create(&name, scope)?;
            writeln!(out, "{secret}").map_err(w)?;
            out.flush().map_err(w)?;
            eprintln!(
                "created key {} ({}, scope {}): the secret above is shown only this once",
                key.id, key.name, key.scope
            );
        }
        KeysCommand::List { json } => {
            let set = store.load()?;
            if !json {
                writeln!(
                    out,
                    "{:<17} {:<24} {:<6} {:<20} REVOKED",
                    "ID", "NAME", "SCOPE", "CREATED"
                )
                .map_err(w)?;
            }
            for k in set.keys() {
                if json {
                    let v = serde_json::json!({
                        "id": k.id, "name": k.name, "scope": k.scope.as_str(),
                        "created_at": k.created_at, "revoked_at": k.revoked_at,
                    });
                    writeln!(out, "{v}").map_err(w)?;
                } else {
                    writeln!(
                        out,
                        "{:<17} {:<24} {:<6} {:<20} {}",
                        k.id,
                        k.name,
                        k.scope.as_str(),
                        k.created_at.format("%Y-%m-%d %H:%M:%S"),
                        k.revoked_at
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                            .unwrap_or_else(|| "-".into())
                    )
                    .map_err(w)?;
                }
            }
        }
        KeysCommand::Revoke { key } => {
            let k = store.revoke(&key)?;
            eprintln!("revoked key {} ({})", k.id, k.name);
        }
    }
    Ok(())
}
