//! API keys of a home: who may use a service (`ytcaption serve`) in front of its pipeline.
//!
//! Keys live in `<home>/keys.json` (mode 0600), apart from the journal, so that
//! `ytcaption keys create|list|revoke` work while a server holds the journal's lock. Only a
//! hash of each secret is stored: secrets are 244 random bits (`ytc_` + 64 hex digits), so a
//! plain SHA-256 is enough. Every change is a read-modify-write under an exclusive lock of
//! `keys.json.lock`, written to a temporary file and renamed over `keys.json`: readers never see
//! half a file, and two writers never lose each other's change. A server notices a change by the
//! file's modification time ([`KeyStore::stamp`]) and reloads, so a revoked key is refused at
//! once.
//!
//! Nothing here speaks HTTP: front ends check a presented secret with [`KeySet::verify`].

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::home::Home;

/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "ytc_";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Submit jobs and see, wait on and cancel its own.
    User,
    /// Everything: every owner's jobs, keys, retention, the cache.
    Admin,
}

impl KeyScope {
    /// `user` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::User => "user",
            KeyScope::Admin => "admin",
        }
    }
}

impl std::fmt::Display for KeyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyScope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "user" => Ok(KeyScope::User),
            "admin" => Ok(KeyScope::Admin),
            other => Err(Error::invalid(format!(
                "unknown key scope {other:?} (expected user or admin)"
            ))),
        }
    }
}

/// One key as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKey {
    /// Its id (`key_` + 12 hex digits): the owner of the jobs it submits.
    pub id: String,
    /// A name for people (unique among the keys not revoked).
    pub name: String,
    /// What it may do.
    pub scope: KeyScope,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked (a revoked key is refused; it stays listed).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Hex SHA-256 of the secret.
    pub secret_sha256: String,
}

impl ApiKey {
    /// Whether the key may still be used.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    keys: Vec<ApiKey>,
}

/// The keys of a file as read at one moment; checks secrets.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<ApiKey>,
}

impl KeySet {
    /// Every key, revoked ones included, oldest first.
    pub fn keys(&self) -> &[ApiKey] {
        &self.keys
    }

    /// Whether no key was ever created (revoked keys count: a home with only revoked keys
    /// still requires keys).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The active key whose secret is `secret`.
    pub fn verify(&self, secret: &str) -> Option<&ApiKey> {
        let hash = hash_secret(secret);
        self.keys
            .iter()
            .find(|k| k.is_active() && constant_time_eq(&k.secret_sha256, &hash))
    }

    /// The key with this id, or else the active key with this name.
    pub fn find(&self, id_or_name: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|k| k.id == id_or_name).or_else(|| {
            self.keys
                .iter()
                .find(|k| k.is_active() && k.name == id_or_name)
        })
    }
}

/// The hex SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A new random secret: `ytc_` + 64 hex digits (244 bits from the operating system's random
/// source).
pub fn new_secret() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    format!(
        "{SECRET_PREFIX}{}{}",
        hex::encode(a.as_bytes()),
        hex::encode(b.as_bytes())
    )
}

fn new_id() -> String {
    let u = uuid::Uuid::new_v4();
    format!("key_{}", &hex::encode(u.as_bytes())[..12])
}

/// A version of the key file ([`KeyStore::stamp`]): compare two to see whether it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFileStamp {
    modified: SystemTime,
    len: u64,
    ino: u64,
}

/// The key file of a home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStore {
    path: PathBuf,
}

impl KeyStore {
    /// The store in `path` (a JSON file; created on the first key).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        KeyStore { path: path.into() }
    }

    /// `<home>/keys.json`.
    pub fn of_home(home: &Home) -> Self {
        Self::new(home.root().join("keys.json"))
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        PathBuf::from(p)
    }

    /// What identifies the file's current version (its modification time, length and, on
    /// Unix, inode: every write renames a new file over it; `None` when there is no file):
    /// reload when it changes.
    pub fn stamp(&self) -> Option<KeyFileStamp> {
        let m = std::fs::metadata(&self.path).ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let ino = 0;
        Some(KeyFileStamp {
            modified: m.modified().ok()?,
            len: m.len(),
            ino,
        })
    }

    /// The keys now (none when the file does not exist).
    pub fn load(&self) -> Result<KeySet> {
        Ok(KeySet {
            keys: self.read()?.keys,
        })
    }

    fn read(&self) -> Result<KeyFile> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::invalid(format!(
                    "the key file {} is not valid: {e}",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeyFile::default()),
            Err(e) => Err(Error::io(format!("reading {}", self.path.display()), e)),
        }
    }

    /// Runs `change` on the keys under the file lock and writes the result atomically (mode
    /// 0600).
    fn modify<T>(&self, change: impl FnOnce(&mut Vec<ApiKey>) -> Result<T>) -> Result<T> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let lock_path = self.lock_path();
        let lock = open_private(&lock_path)?;
        lock.lock()
            .map_err(|e| Error::io(format!("locking {}", lock_path.display()), e))?;
        let mut file = self.read()?;
        let out = change(&mut file.keys)?;
        file.version = 1;
        let bytes = serde_json::to_vec_pretty(&file)?;
        let tmp = crate::fsutil::AtomicFile::new(&self.path)?;
        {
            use std::io::Write;
            let mut f = open_private(tmp.tmp_path())?;
            f.set_len(0)
                .and_then(|_| f.write_all(&bytes))
                .map_err(|e| Error::io(format!("writing {}", tmp.tmp_path().display()), e))?;
        }
        tmp.commit()?;
        drop(lock);
        Ok(out)
    }

    /// Creates a key named `name` with `scope`; returns it and its secret (shown once: only its
    /// hash is kept). Names are 1 to 64 printable characters, unique among active keys.
    pub fn create(&self, name: &str, scope: KeyScope) -> Result<(ApiKey, String)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "a key's name must be 1 to 64 characters, without control characters",
            ));
        }
        if name.starts_with("key_") || name.starts_with(SECRET_PREFIX) {
            return Err(Error::invalid(
                "a key's name may not start with key_ or ytc_ (those are ids and secrets)",
            ));
        }
        let secret = new_secret();
        let key = ApiKey {
            id: new_id(),
            name: name.to_string(),
            scope,
            created_at: Utc::now(),
            revoked_at: None,
            secret_sha256: hash_secret(&secret),
        };
        let stored = key.clone();
        self.modify(move |keys| {
            if keys.iter().any(|k| k.is_active() && k.name == stored.name) {
                return Err(Error::invalid(format!(
                    "an active key is already named {:?}: revoke it or pick another name",
                    stored.name
                )));
            }
            keys.push(stored);
            Ok(())
        })?;
        Ok((key, secret))
    }

    /// Revokes the key with this id (or the active key with this name); it is refused from now
    /// on. Revoking a revoked key changes nothing.
    pub fn revoke(&self, id_or_name: &str) -> Result<ApiKey> {
        self.modify(|keys| {
            let set = KeySet {
                keys: std::mem::take(keys),
            };
            let found = set.find(id_or_name).map(|k| k.id.clone());
            *keys = set.keys;
            let id = found.ok_or_else(|| no_such_key(id_or_name))?;
            let key = keys
                .iter_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| no_such_key(id_or_name))?;
            if key.revoked_at.is_none() {
                key.revoked_at = Some(Utc::now());
            }
            Ok(key.clone())
        })
    }

    /// Removes the key with this id from the file altogether (a server's own local key when it
    /// stops). `false` when there was none.
    pub fn remove(&self, id: &str) -> Result<bool> {
        self.modify(|keys| {
            let before = keys.len();
            keys.retain(|k| k.id != id);
            Ok(keys.len() != before)
        })
    }
}

fn no_such_key(id_or_name: &str) -> Error {
    Error::invalid(format!("no key with id or name {id_or_name:?}"))
}

/// Opens (creating) a file readable and writable by its owner only.
fn open_private(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_verify_revoke_and_only_hashes_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path().join("keys.json"));
        assert!(store.load().unwrap().is_empty(), "no file: no keys");
        let (alice, secret) = store.create("alice", KeyScope::User).unwrap();
        let (admin, admin_secret) = store.create("ops", KeyScope::Admin).unwrap();
        assert!(
            secret.starts_with("ytc_") && secret.len() == 4 + 64,
            "{secret}"
        );
        assert_ne!(secret, admin_secret);
        let raw = std::fs::read_to_string(store.path()).unwrap();
        assert!(!raw.contains(&secret) && !raw.contains(&admin_secret));
        assert!(raw.contains(&hash_secret(&secret)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }

        let set = store.load().unwrap();
        assert_eq!(set.verify(&secret).unwrap().id, alice.id);
        assert_eq!(set.verify(&admin_secret).unwrap().scope, KeyScope::Admin);
        assert!(set.verify("ytc_wrong").is_none());
        assert!(set.verify(&secret[..secret.len() - 1]).is_none());

        // Names are unique among active keys.
        let err = store.create("alice", KeyScope::Admin).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(store.create(" ", KeyScope::User).is_err());

        let stamp = store.stamp();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let revoked = store.revoke("alice").unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_ne!(store.stamp(), stamp, "a change shows in the stamp");
        let set = store.load().unwrap();
        assert!(set.verify(&secret).is_none(), "a revoked key is refused");
        assert!(set.verify(&admin_secret).is_some());
        assert_eq!(set.keys().len(), 2, "revoked keys stay listed");
        // By id too; again is harmless; an unknown one is an error.
        assert_eq!(store.revoke(&alice.id).unwrap().id, alice.id);
        assert!(store.revoke("nobody").is_err());
        // The name is free again.
        let (alice2, _) = store.create("alice", KeyScope::User).unwrap();
        assert_ne!(alice2.id, alice.id);

        assert!(store.remove(&admin.id).unwrap());
        assert!(!store.remove(&admin.id).unwrap());
        assert!(store.load().unwrap().verify(&admin_secret).is_none());
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = KeyStore::new(&path);
                std::thread::spawn(move || {
                    for i in 0..10 {
                        store.create(&format!("k{t}-{i}"), KeyScope::User).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(KeyStore::new(&path).load().unwrap().keys().len(), 40);
    }

    #[test]
    fn scopes_parse() {
        assert_eq!("ADMIN".parse::<KeyScope>().unwrap(), KeyScope::Admin);
        assert_eq!("user".parse::<KeyScope>().unwrap(), KeyScope::User);
        assert_eq!(
            "root".parse::<KeyScope>().unwrap_err().code(),
            "invalid_input"
        );
    }
}
