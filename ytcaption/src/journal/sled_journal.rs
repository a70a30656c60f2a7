//! The embedded journal on sled.
//!
//! Trees:
//! * `jobs`: job id (16 bytes) → job JSON
//! * `events`: job id (16) ++ sequence (u64 BE) → event JSON
//! * `last_event`: job id → the id of the job's latest event (the next event's causation id)
//! * `queue`: priority rank (1) ++ job id (16, time-ordered) → empty; only pending jobs
//! * `idempotency`: key → job id; the key is the idempotency key's bytes for jobs without an
//!   owner (as before owners existed), `0x00 "owner" len (u32 BE) owner key` for an owner's
//!   (idempotency keys hold no NUL, so the two never meet)
//! * `chunks`: job id (16) ++ chunk index (u32 BE) → chunk checkpoint JSON (running jobs only)
//! * `outbox`: event id (16, time-ordered) ++ notifier name → [`Delivery`] JSON; written in the
//!   transaction of the state change it reports, removed once delivered or given up. (Earlier
//!   versions keyed webhook deliveries by the event id alone: `open` rewrites such keys.)
//!
//! * `quarantine`: tree name ++ 0 ++ key → a [`Quarantined`] JSON line, `\n`, then the
//!   record's raw bytes: records that did not decode, set aside so that the rest goes on.
//!   `open` sets aside the bad records of `jobs`, `outbox` and `chunks` (what opening,
//!   recovery, claims and webhooks read); a listing, a claim, `events`, `chunks` or `due` that
//!   meets one later sets it aside and skips it; [`SledJournal::check`] scans every tree.
//!
//! Records are written as `v1:` + JSON ([`super::record`]); a record without the prefix
//! (written by earlier versions) is read as version 1.
//!
//! Every state change writes the job, its event, the queue index and `last_event` in one sled
//! transaction, then flushes, so a SIGKILL right after a call returns loses nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use super::record::{decode, encode};
use super::{
    BadRecord, ChunkCheckpoint, Created, Delivery, DeliveryPlan, JobFilter, JobPatch, Journal,
    Outbox, Quarantined, Recovery,
};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::{Job, JobId, JobStatus, Priority};

/// The sled-backed [`Journal`]. One process at a time may open a journal directory.
#[derive(Clone)]
pub struct SledJournal {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: sled::Db,
    jobs: sled::Tree,
    events: sled::Tree,
    last_event: sled::Tree,
    queue: sled::Tree,
    idempotency: sled::Tree,
    chunks: sled::Tree,
    outbox: sled::Tree,
    quarantine: sled::Tree,
    /// Serializes claims inside this process so two workers never race for one queue head.
    claim_lock: std::sync::Mutex<()>,
    /// Outbox deliveries taken by a dispatcher ([`Outbox::take`]), by outbox key, with the end
    /// of their hold. In memory: only this process opens the journal, and a restart (which
    /// ends every dispatcher) lets go of them all.
    held: std::sync::Mutex<std::collections::HashMap<Vec<u8>, DateTime<Utc>>>,
}

const OWNER_FILE: &str = "owner.pid";

/// How long `open` waits for a journal lock that is being released (milliseconds).
const LOCK_WAIT_MS: u64 = 500;

/// Whether sled could not open the journal because another handle holds its file lock.
fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

impl SledJournal {
    /// Opens (or creates) the journal in `dir`.
    ///
    /// Fails with [`Error::JournalLocked`] (naming the holder's pid) when another process has
    /// it open.
    ///
    /// Records that do not decode in `jobs`, `outbox` and `chunks` are set aside into the
    /// `quarantine` tree (see [`Journal::quarantined`]), each with a warning: one bad record
    /// never keeps the journal from opening.
    pub fn open(dir: impl AsRef<Path>) -> Result<SledJournal> {
        let journal = Self::open_unswept(dir.as_ref())?;
        journal.sweep()?;
        Ok(journal)
    }

    /// Opens the journal without setting bad records aside (for [`SledJournal::check`]).
    fn open_unswept(dir: &Path) -> Result<SledJournal> {
        let path = dir.to_path_buf();
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::io(format!("creating the journal dir {}", path.display()), e))?;
        // A journal closed a moment ago in this process may still hold its file lock while
        // sled's threads wind down: wait for it briefly before calling the journal locked.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(LOCK_WAIT_MS);
        let opened = loop {
            let r = sled::Config::new()
                .path(&path)
                .flush_every_ms(Some(200))
                .open();
            match &r {
                Err(e) if is_lock_error(e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                _ => break r,
            }
        };
        let db = match opened {
            Ok(db) => db,
            Err(e) if is_lock_error(&e) => {
                let pid = std::fs::read_to_string(path.join(OWNER_FILE))
                    .ok()
                    .and_then(|s| s.trim().parse().ok());
                return Err(Error::JournalLocked { path, pid });
            }
            Err(e) => {
                return Err(Error::journal(format!(
                    "cannot open the journal at {}: {e}",
                    path.display()
                )))
            }
        };
        let _ = std::fs::write(path.join(OWNER_FILE), std::process::id().to_string());
        let tree = |name: &str| db.open_tree(name).map_err(Error::from);
        let inner = Inner {
            jobs: tree("jobs")?,
            events: tree("events")?,
            last_event: tree("last_event")?,
            queue: tree("queue")?,
            idempotency: tree("idempotency")?,
            chunks: tree("chunks")?,
            outbox: tree("outbox")?,
            quarantine: tree("quarantine")?,
            db,
            path,
            claim_lock: std::sync::Mutex::new(()),
            held: std::sync::Mutex::new(std::collections::HashMap::new()),
        };
        let journal = SledJournal {
            inner: Arc::new(inner),
        };
        journal.migrate_outbox_keys()?;
        Ok(journal)
    }

    /// Rewrites outbox keys of earlier versions (the event id alone) as event id ++ notifier.
    fn migrate_outbox_keys(&self) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut any = false;
        for item in self.inner.outbox.iter() {
            let (key, raw) = item?;
            if key.len() == 16 {
                // One that does not decode is left for the sweep to set aside.
                let Ok(d) = decode::<Delivery>(&raw) else {
                    continue;
                };
                batch.remove(key);
                batch.insert(Self::outbox_key(&d), raw);
                any = true;
            }
        }
        if any {
            self.inner.outbox.apply_batch(batch)?;
            self.durable()?;
        }
        Ok(())
    }

    fn outbox_key(d: &Delivery) -> Vec<u8> {
        let mut k = Vec::with_capacity(16 + d.notifier.len());
        k.extend_from_slice(d.event_id.as_bytes());
        k.extend_from_slice(d.notifier.as_bytes());
        k
    }

    /// The directory the journal lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn queue_key(job: &Job) -> [u8; 17] {
        let mut k = [0u8; 17];
        k[0] = job.priority.queue_rank();
        k[1..].copy_from_slice(job.id.as_bytes());
        k
    }

    fn event_key(&self, job: JobId) -> Result<[u8; 24]> {
        let seq = self.inner.db.generate_id()?;
        let mut k = [0u8; 24];
        k[..16].copy_from_slice(job.as_bytes());
        k[16..].copy_from_slice(&seq.to_be_bytes());
        Ok(k)
    }

    fn decode_job(bytes: &[u8]) -> Result<Job> {
        decode(bytes)
    }

    /// Sets aside the records of `jobs`, `outbox` and `chunks` that do not decode (what
    /// opening, recovery, claims and webhooks read; `events` are checked as they are read).
    /// Returns how many were moved.
    fn sweep(&self) -> Result<usize> {
        let i = &self.inner;
        let mut moved = 0;
        for (name, tree) in [
            ("jobs", &i.jobs),
            ("outbox", &i.outbox),
            ("chunks", &i.chunks),
        ] {
            let mut bad = Vec::new();
            for item in tree.iter() {
                let (key, raw) = item?;
                if let Err(e) = check_record(name, &key, &raw) {
                    bad.push((key, raw, e));
                }
            }
            for (key, raw, error) in bad {
                if self.quarantine(name, &key, &raw, &error)? {
                    moved += 1;
                }
            }
        }
        if moved > 0 {
            self.durable()?;
        }
        Ok(moved)
    }

    /// The tree called `name`.
    fn tree(&self, name: &str) -> Option<&sled::Tree> {
        let i = &self.inner;
        Some(match name {
            "jobs" => &i.jobs,
            "events" => &i.events,
            "last_event" => &i.last_event,
            "queue" => &i.queue,
            "idempotency" => &i.idempotency,
            "chunks" => &i.chunks,
            "outbox" => &i.outbox,
            _ => return None,
        })
    }

    /// Moves the record `key` of `tree`, whose bytes are `raw` and which does not decode, into
    /// the `quarantine` tree with the error and when, in one transaction; a bad job takes its
    /// queue and idempotency entries with it (so nothing hands it out or returns it). Logs a
    /// warning. Returns false when the record changed in between (nothing is moved).
    fn quarantine(&self, tree: &str, key: &[u8], raw: &[u8], error: &str) -> Result<bool> {
        let i = &self.inner;
        let Some(source) = self.tree(tree) else {
            return Err(Error::journal(format!("no journal tree called {tree}")));
        };
        let record = Quarantined {
            tree: tree.to_string(),
            key: hex::encode(key),
            job_id: job_of(tree, key),
            error: error.to_string(),
            quarantined_at: Utc::now(),
            bytes: raw.len(),
        };
        let mut qkey = tree.as_bytes().to_vec();
        qkey.push(0);
        qkey.extend_from_slice(key);
        let mut value = serde_json::to_vec(&record)?;
        value.push(b'\n');
        value.extend_from_slice(raw);
        let moved = if tree == "jobs" {
            // Its queue entry (any priority) and the idempotency keys that name it.
            let mut queue_keys = Vec::new();
            for p in [Priority::Low, Priority::Normal, Priority::High] {
                let mut k = vec![p.queue_rank()];
                k.extend_from_slice(key);
                if i.queue.contains_key(&k)? {
                    queue_keys.push(k);
                }
            }
            let mut idem_keys = Vec::new();
            for item in i.idempotency.iter() {
                let (ik, v) = item?;
                if *v == *key {
                    idem_keys.push(ik);
                }
            }
            let res = (&i.jobs, &i.quarantine, &i.queue, &i.idempotency).transaction(
                |(jobs, q, queue, idem)| {
                    if jobs.get(key)?.as_deref() != Some(raw) {
                        return Ok(false);
                    }
                    jobs.remove(key)?;
                    q.insert(&qkey[..], &value[..])?;
                    for k in &queue_keys {
                        queue.remove(&k[..])?;
                    }
                    for k in &idem_keys {
                        idem.remove(k)?;
                    }
                    Ok(true)
                },
            );
            unwrap_tx(res)?
        } else {
            let res = (source, &i.quarantine).transaction(|(t, q)| {
                if t.get(key)?.as_deref() != Some(raw) {
                    return Ok(false);
                }
                t.remove(key)?;
                q.insert(&qkey[..], &value[..])?;
                Ok(true)
            });
            unwrap_tx(res)?
        };
        if moved {
            crate::metrics::record_quarantined(tree);
            tracing::warn!(
                tree,
                key = %record.key,
                job_id = record.job_id.as_deref().unwrap_or("-"),
                error,
                "a journal record does not decode: set aside in the quarantine tree \
                 (see `ytcaption journal check`)"
            );
        }
        Ok(moved)
    }

    /// Decodes `raw`, the record `key` of `tree`; one that does not decode is set aside
    /// (flushed) and `None` (the caller skips it).
    fn decode_or_set_aside<T: serde::de::DeserializeOwned>(
        &self,
        tree: &str,
        key: &[u8],
        raw: &[u8],
    ) -> Result<Option<T>> {
        match decode(raw) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                if self.quarantine(tree, key, raw, &e.to_string())? {
                    self.durable()?;
                }
                Ok(None)
            }
        }
    }

    /// The job `id`, `None` when it does not exist; a record that does not decode is set
    /// aside and a `journal_error` (as is a job set aside earlier), so the caller knows the
    /// job existed and why it cannot have it.
    fn job_or_error(&self, id: JobId) -> Result<Option<Job>> {
        match self.inner.jobs.get(id.as_bytes())? {
            Some(raw) => match decode::<Job>(&raw) {
                Ok(job) => Ok(Some(job)),
                Err(e) => {
                    if self.quarantine("jobs", id.as_bytes(), &raw, &e.to_string())? {
                        self.durable()?;
                    }
                    Err(Error::journal_with(
                        format!(
                            "the record of job {id} does not decode; it was set aside \
                             (see `ytcaption journal check`)"
                        ),
                        e,
                    ))
                }
            },
            None => {
                let mut qkey = b"jobs\0".to_vec();
                qkey.extend_from_slice(id.as_bytes());
                match self.inner.quarantine.get(&qkey)? {
                    Some(v) => Err(Error::journal(format!(
                        "the record of job {id} did not decode and was set aside: {} \
                         (see `ytcaption journal check`)",
                        quarantine_entry(&v)
                            .map(|q| q.error)
                            .unwrap_or_else(|| "unknown error".into())
                    ))),
                    None => Ok(None),
                }
            }
        }
    }

    /// After a change of job `id` failed with `e`: when its record does not decode, sets it
    /// aside (the change's error, a `journal_error`, stands).
    fn set_aside_if_bad(&self, id: JobId, e: &Error) {
        if matches!(e, Error::Journal { .. }) {
            let _ = self.job_or_error(id);
        }
    }

    /// Scans every record of every tree; with `repair`, sets aside each that does not decode.
    fn scan(&self, repair: bool) -> Result<CheckReport> {
        let mut report = CheckReport {
            path: self.inner.path.clone(),
            records: std::collections::BTreeMap::new(),
            bad: Vec::new(),
            repaired: 0,
            quarantined: Vec::new(),
        };
        for name in TREES {
            let tree = self.tree(name).expect("a known tree");
            let mut n = 0;
            let mut bad = Vec::new();
            for item in tree.iter() {
                let (key, raw) = item?;
                n += 1;
                if let Err(error) = check_record(name, &key, &raw) {
                    report.bad.push(BadRecord {
                        tree: name.to_string(),
                        key: hex::encode(&key),
                        job_id: job_of(name, &key),
                        error: error.clone(),
                        bytes: raw.len(),
                    });
                    bad.push((key, raw, error));
                }
            }
            report.records.insert(name.to_string(), n - bad.len());
            if repair {
                for (key, raw, error) in bad {
                    if self.quarantine(name, &key, &raw, &error)? {
                        report.repaired += 1;
                    }
                }
            }
        }
        if report.repaired > 0 {
            self.durable()?;
        }
        report.quarantined = self.quarantined_sync()?;
        Ok(report)
    }

    fn quarantined_sync(&self) -> Result<Vec<Quarantined>> {
        let mut out = Vec::new();
        for item in self.inner.quarantine.iter() {
            let (k, v) = item?;
            out.push(quarantine_entry(&v).unwrap_or_else(|| {
                // An entry that does not decode itself: still reported, by its key.
                let split = k.iter().position(|b| *b == 0).unwrap_or(k.len());
                let key = k.get(split + 1..).unwrap_or(&[]);
                let tree = String::from_utf8_lossy(&k[..split]).into_owned();
                Quarantined {
                    job_id: job_of(&tree, key),
                    tree,
                    key: hex::encode(key),
                    error: "(the quarantine entry itself does not decode)".into(),
                    quarantined_at: DateTime::<Utc>::UNIX_EPOCH,
                    bytes: v.len(),
                }
            }));
        }
        Ok(out)
    }

    /// Opens the journal in `dir` (which must exist) without setting anything aside, reads
    /// every record of every tree and reports those that do not decode, and what the
    /// quarantine tree holds; with `repair`, sets the bad ones aside (as opening it would for
    /// `jobs`, `outbox` and `chunks`). `ytcaption journal check` runs it.
    pub fn check(dir: impl AsRef<Path>, repair: bool) -> Result<CheckReport> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(Error::InputNotFound {
                path: dir.to_path_buf(),
            });
        }
        Self::open_unswept(dir)?.scan(repair)
    }

    fn durable(&self) -> Result<()> {
        self.inner.db.flush()?;
        Ok(())
    }

    /// The core of every state change, run inside a transaction over
    /// (jobs, events, last_event, queue, outbox).
    #[allow(clippy::too_many_arguments)]
    fn apply_transition(
        jobs: &TransactionalTree,
        events: &TransactionalTree,
        last: &TransactionalTree,
        queue: &TransactionalTree,
        outbox: &TransactionalTree,
        id: JobId,
        to: JobStatus,
        patch: &JobPatch,
        kind: &EventKind,
        event_key: &[u8; 24],
        event_id: Uuid,
    ) -> std::result::Result<(Job, Event), ConflictableTransactionError<Error>> {
        let abort = ConflictableTransactionError::Abort;
        let raw = jobs.get(id.as_bytes())?.ok_or_else(|| {
            abort(Error::JobNotFound {
                job_id: id.to_string(),
            })
        })?;
        let mut job = Self::decode_job(&raw).map_err(abort)?;
        let before = job.clone();
        job.transition(to).map_err(abort)?;
        patch.apply_to(&mut job);
        if before.status == JobStatus::Pending {
            queue.remove(&Self::queue_key(&before))?;
        }
        if to == JobStatus::Pending {
            queue.insert(&Self::queue_key(&job), &[])?;
        }
        let causation = last
            .get(id.as_bytes())?
            .and_then(|b| Uuid::from_slice(&b).ok());
        // The status a job left is known only here, inside the transaction.
        let kind = super::stamp_from(kind, before.status);
        let mut event = Event::new(id, causation, kind);
        event.event_id = event_id;
        event.timestamp = job.updated_at;
        jobs.insert(id.as_bytes(), encode(&job).map_err(|e| abort(e.into()))?)?;
        events.insert(&event_key[..], encode(&event).map_err(|e| abort(e.into()))?)?;
        last.insert(id.as_bytes(), event.event_id.as_bytes())?;
        // Notifications are recorded with the state change they report: they cannot be lost.
        for new in &patch.deliveries {
            let d = Delivery::for_event(&job, &event, new);
            outbox.insert(
                Self::outbox_key(&d),
                encode(&d).map_err(|e| abort(e.into()))?,
            )?;
        }
        Ok((job, event))
    }

    fn transition_sync(
        &self,
        id: JobId,
        to: JobStatus,
        patch: JobPatch,
        kind: EventKind,
    ) -> Result<(Job, Event)> {
        let i = &self.inner;
        let key = self.event_key(id)?;
        let event_id = Uuid::now_v7();
        let res = (&i.jobs, &i.events, &i.last_event, &i.queue, &i.outbox).transaction(
            |(jobs, events, last, queue, outbox)| {
                Self::apply_transition(
                    jobs, events, last, queue, outbox, id, to, &patch, &kind, &key, event_id,
                )
            },
        );
        let out = unwrap_tx(res).inspect_err(|e| self.set_aside_if_bad(id, e))?;
        if to.is_terminal() {
            self.clear_chunks(id)?;
        }
        self.durable()?;
        Ok(out)
    }

    fn clear_chunks(&self, id: JobId) -> Result<()> {
        let mut batch = sled::Batch::default();
        for item in self.inner.chunks.scan_prefix(id.as_bytes()).keys() {
            batch.remove(item?);
        }
        self.inner.chunks.apply_batch(batch)?;
        Ok(())
    }

    fn claim_sync(&self) -> Result<Option<(Job, Event)>> {
        let _guard = self
            .inner
            .claim_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        loop {
            let Some(head) = self.inner.queue.iter().next() else {
                return Ok(None);
            };
            let (qkey, _) = head?;
            if qkey.len() != 17 {
                self.inner.queue.remove(&qkey)?;
                continue;
            }
            let mut idb = [0u8; 16];
            idb.copy_from_slice(&qkey[1..]);
            let id = JobId::from_bytes(idb);
            let attempt = match self.inner.jobs.get(id.as_bytes())? {
                // One corrupted since the journal was opened is set aside: the queue goes on.
                Some(raw) => match self.decode_or_set_aside::<Job>("jobs", id.as_bytes(), &raw)? {
                    Some(job) => job.attempts + 1,
                    // Set aside with its queue entry (or changed in between: read again).
                    None => continue,
                },
                None => {
                    self.inner.queue.remove(&qkey)?;
                    continue;
                }
            };
            match self.transition_sync(
                id,
                JobStatus::Downloading,
                JobPatch::default(),
                EventKind::DownloadStarted { attempt },
            ) {
                Ok(out) => return Ok(Some(out)),
                // Not pending any more (cancelled in between): drop the stale index entry.
                Err(Error::IllegalTransition { .. }) => {
                    self.inner.queue.remove(&qkey)?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Every tree that holds records, in the order `check` reads them.
const TREES: [&str; 7] = [
    "jobs",
    "queue",
    "idempotency",
    "events",
    "last_event",
    "chunks",
    "outbox",
];

/// Whether the record `key` → `raw` of `tree` decodes (its key and value have the shape the
/// journal writes); the error says why not.
fn check_record(tree: &str, key: &[u8], raw: &[u8]) -> std::result::Result<(), String> {
    let key_len = |n: usize| {
        if key.len() == n {
            Ok(())
        } else {
            Err(format!("a {tree} key is {n} bytes, this one {}", key.len()))
        }
    };
    let id_value = || {
        if raw.len() == 16 {
            Ok(())
        } else {
            Err(format!(
                "a {tree} value is an id of 16 bytes, this one {}",
                raw.len()
            ))
        }
    };
    let json = |r: Result<()>| r.map_err(|e| e.to_string());
    match tree {
        "jobs" => {
            key_len(16)?;
            json(decode::<Job>(raw).map(drop))
        }
        "events" => {
            key_len(24)?;
            json(decode::<Event>(raw).map(drop))
        }
        "chunks" => {
            key_len(20)?;
            json(decode::<ChunkCheckpoint>(raw).map(drop))
        }
        "outbox" => {
            if key.len() < 16 {
                return Err(format!(
                    "an outbox key is at least 16 bytes, this one {}",
                    key.len()
                ));
            }
            json(decode::<Delivery>(raw).map(drop))
        }
        "queue" => key_len(17),
        "last_event" => {
            key_len(16)?;
            id_value()
        }
        "idempotency" => id_value(),
        _ => Ok(()),
    }
}

/// The job a record's key names, for the trees keyed by job id.
fn job_of(tree: &str, key: &[u8]) -> Option<String> {
    let id = match tree {
        "jobs" | "events" | "last_event" | "chunks" => key.get(..16)?,
        "queue" => key.get(1..17)?,
        _ => return None,
    };
    let bytes: [u8; 16] = id.try_into().ok()?;
    Some(JobId::from_bytes(bytes).to_string())
}

/// The [`Quarantined`] line at the head of a quarantine entry.
fn quarantine_entry(v: &[u8]) -> Option<Quarantined> {
    let line = v.split(|b| *b == b'\n').next()?;
    serde_json::from_slice(line).ok()
}

/// What [`SledJournal::check`] found.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The journal directory.
    pub path: PathBuf,
    /// How many records of each tree decode.
    pub records: std::collections::BTreeMap<String, usize>,
    /// The records that do not decode (with `repair`, they are set aside now and also listed
    /// in `quarantined`).
    pub bad: Vec<BadRecord>,
    /// How many bad records were set aside by this check.
    pub repaired: usize,
    /// Every record in the quarantine tree.
    pub quarantined: Vec<Quarantined>,
}

fn unwrap_tx<T>(res: std::result::Result<T, TransactionError<Error>>) -> Result<T> {
    match res {
        Ok(v) => Ok(v),
        Err(TransactionError::Abort(e)) => Err(e),
        Err(TransactionError::Storage(e)) => Err(e.into()),
    }
}

impl SledJournal {
    /// The `idempotency` tree's key of `key` submitted by `owner`.
    fn idempotency_key(owner: Option<&str>, key: &str) -> Vec<u8> {
        match owner {
            None => key.as_bytes().to_vec(),
            Some(o) => {
                let mut k = Vec::with_capacity(10 + o.len() + key.len());
                k.extend_from_slice(b"\0owner");
                k.extend_from_slice(&(o.len() as u32).to_be_bytes());
                k.extend_from_slice(o.as_bytes());
                k.extend_from_slice(key.as_bytes());
                k
            }
        }
    }
}

#[async_trait]
impl Journal for SledJournal {
    async fn create(&self, job: Job) -> Result<Created> {
        let i = &self.inner;
        let key = self.event_key(job.id)?;
        let event = Event::new(
            job.id,
            None,
            EventKind::JobCreated {
                source: job.source.redacted(),
                priority: job.priority,
                language: job.language.to_string(),
            },
        );
        let res = (&i.jobs, &i.events, &i.last_event, &i.queue, &i.idempotency).transaction(
            |(jobs, events, last, queue, idem)| {
                if let Some(k) = &job.idempotency_key {
                    let k = Self::idempotency_key(job.owner.as_deref(), k);
                    if let Some(existing) = idem.get(&k[..])? {
                        // A job whose record does not decode is lost (it is set aside when
                        // met): the key makes a new one.
                        // A key past its job's expiry names the new job from now on.
                        if let Some(Ok(j)) = jobs.get(&existing)?.map(|raw| Self::decode_job(&raw))
                        {
                            if !j.idempotency_expired(job.created_at) {
                                return Ok(Created::Existing(j));
                            }
                        }
                    }
                    idem.insert(&k[..], job.id.as_bytes())?;
                }
                let bytes =
                    encode(&job).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                jobs.insert(job.id.as_bytes(), bytes)?;
                let ev =
                    encode(&event).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                events.insert(&key[..], ev)?;
                last.insert(job.id.as_bytes(), event.event_id.as_bytes())?;
                queue.insert(&Self::queue_key(&job), &[])?;
                Ok(Created::New(job.clone(), event.clone()))
            },
        );
        let out = unwrap_tx(res)?;
        if matches!(out, Created::New(..)) {
            self.durable()?;
        }
        Ok(out)
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>> {
        self.job_or_error(id)
    }

    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let mut out = Vec::new();
        let matches = |job: &Job| {
            filter.status.is_none_or(|s| s == job.status)
                && filter
                    .owner
                    .as_deref()
                    .is_none_or(|o| job.owner.as_deref() == Some(o))
        };
        if filter.limit.is_some() || filter.before.is_some() {
            let limit = filter.limit.unwrap_or(usize::MAX);
            let newest_first = match filter.before {
                Some(b) => self.inner.jobs.range(..b.as_bytes().to_vec()).rev(),
                None => self.inner.jobs.iter().rev(),
            };
            for item in newest_first {
                let (key, raw) = item?;
                let Some(job) = self.decode_or_set_aside::<Job>("jobs", &key, &raw)? else {
                    continue;
                };
                if matches(&job) {
                    out.push(job);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
        } else {
            for item in self.inner.jobs.iter() {
                let (key, raw) = item?;
                let Some(job) = self.decode_or_set_aside::<Job>("jobs", &key, &raw)? else {
                    continue;
                };
                if matches(&job) {
                    out.push(job);
                }
            }
        }
        Ok(out)
    }

    async fn transition(
        &self,
        id: JobId,
        to: JobStatus,
        patch: JobPatch,
        event: EventKind,
    ) -> Result<(Job, Event)> {
        self.transition_sync(id, to, patch, event)
    }

    async fn append(&self, id: JobId, kind: EventKind) -> Result<Event> {
        let i = &self.inner;
        let key = self.event_key(id)?;
        let event_id = Uuid::now_v7();
        let res = (&i.jobs, &i.events, &i.last_event).transaction(|(jobs, events, last)| {
            if jobs.get(id.as_bytes())?.is_none() {
                return Err(ConflictableTransactionError::Abort(Error::JobNotFound {
                    job_id: id.to_string(),
                }));
            }
            let causation = last
                .get(id.as_bytes())?
                .and_then(|b| Uuid::from_slice(&b).ok());
            let mut event = Event::new(id, causation, kind.clone());
            event.event_id = event_id;
            let bytes =
                encode(&event).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
            events.insert(&key[..], bytes)?;
            last.insert(id.as_bytes(), event.event_id.as_bytes())?;
            Ok(event)
        });
        unwrap_tx(res)
    }

    async fn save_chunk(&self, id: JobId, chunk: ChunkCheckpoint) -> Result<Event> {
        let i = &self.inner;
        let key = self.event_key(id)?;
        let event_id = Uuid::now_v7();
        let mut ckey = [0u8; 20];
        ckey[..16].copy_from_slice(id.as_bytes());
        ckey[16..].copy_from_slice(&chunk.index.to_be_bytes());
        let kind = EventKind::ChunkTranscribed {
            index: chunk.index,
            start_seconds: chunk.start_sample as f64 / 16000.0,
            end_seconds: chunk.end_sample as f64 / 16000.0,
            segments: chunk.segments.len(),
            speech: chunk.speech,
        };
        let bytes = encode(&chunk)?;
        let res = (&i.jobs, &i.events, &i.last_event, &i.chunks).transaction(
            |(jobs, events, last, chunks)| {
                let raw = jobs.get(id.as_bytes())?.ok_or_else(|| {
                    ConflictableTransactionError::Abort(Error::JobNotFound {
                        job_id: id.to_string(),
                    })
                })?;
                let mut job =
                    Self::decode_job(&raw).map_err(ConflictableTransactionError::Abort)?;
                if !job.status.is_running() {
                    return Err(ConflictableTransactionError::Abort(
                        Error::IllegalTransition {
                            job_id: id.to_string(),
                            from: job.status.to_string(),
                            to: "chunk checkpoint".into(),
                        },
                    ));
                }
                let causation = last
                    .get(id.as_bytes())?
                    .and_then(|b| Uuid::from_slice(&b).ok());
                let mut event = Event::new(id, causation, kind.clone());
                event.event_id = event_id;
                let ev =
                    encode(&event).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                if chunks.insert(&ckey[..], bytes.clone())?.is_none() {
                    // A chunk this job had no checkpoint for: progress (see Job::progress).
                    job.note_new_checkpoint();
                    jobs.insert(
                        id.as_bytes(),
                        encode(&job).map_err(|e| ConflictableTransactionError::Abort(e.into()))?,
                    )?;
                }
                events.insert(&key[..], ev)?;
                last.insert(id.as_bytes(), event.event_id.as_bytes())?;
                Ok(event)
            },
        );
        let ev = unwrap_tx(res).inspect_err(|e| self.set_aside_if_bad(id, e))?;
        self.durable()?;
        Ok(ev)
    }

    async fn chunks(&self, id: JobId) -> Result<Vec<ChunkCheckpoint>> {
        let mut out = Vec::new();
        for item in self.inner.chunks.scan_prefix(id.as_bytes()) {
            let (key, raw) = item?;
            // A checkpoint set aside is a chunk transcribed again.
            if let Some(c) = self.decode_or_set_aside("chunks", &key, &raw)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn events(&self, id: JobId) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for item in self.inner.events.scan_prefix(id.as_bytes()) {
            let (key, raw) = item?;
            if let Some(ev) = self.decode_or_set_aside("events", &key, &raw)? {
                out.push(ev);
            }
        }
        Ok(out)
    }

    async fn claim_next(&self) -> Result<Option<(Job, Event)>> {
        self.claim_sync()
    }

    async fn recover(&self, max_attempts: u32, plan: &DeliveryPlan<'_>) -> Result<Vec<Event>> {
        let mut stale = Vec::new();
        for item in self.inner.jobs.iter() {
            let (key, raw) = item?;
            let Some(job) = self.decode_or_set_aside::<Job>("jobs", &key, &raw)? else {
                continue;
            };
            if job.status.is_running() {
                stale.push(job);
            }
        }
        let mut out = Vec::new();
        for job in stale {
            let r = Recovery::of(&job, max_attempts, plan);
            let (_, ev) = self.transition_sync(job.id, r.to, r.patch, r.event)?;
            out.push(ev);
        }
        Ok(out)
    }

    async fn delete(&self, id: JobId) -> Result<bool> {
        let i = &self.inner;
        let Some(job) = self.job_or_error(id)? else {
            return Ok(false);
        };
        if !job.status.is_terminal() {
            return Err(Error::IllegalTransition {
                job_id: id.to_string(),
                from: job.status.to_string(),
                to: "deleted".into(),
            });
        }
        let event_keys: Vec<sled::IVec> = i
            .events
            .scan_prefix(id.as_bytes())
            .keys()
            .collect::<std::result::Result<_, _>>()?;
        let idem_key = job
            .idempotency_key
            .as_deref()
            .map(|k| Self::idempotency_key(job.owner.as_deref(), k));
        let res = (&i.jobs, &i.events, &i.last_event, &i.idempotency).transaction(
            |(jobs, events, last, idem)| {
                jobs.remove(id.as_bytes())?;
                for k in &event_keys {
                    events.remove(k)?;
                }
                last.remove(id.as_bytes())?;
                if let Some(k) = &idem_key {
                    // Only when the key still names this job.
                    if idem.get(&k[..])?.as_deref() == Some(&id.as_bytes()[..]) {
                        idem.remove(&k[..])?;
                    }
                }
                Ok(())
            },
        );
        unwrap_tx(res)?;
        self.clear_chunks(id)?;
        self.durable()?;
        Ok(true)
    }

    async fn flush(&self) -> Result<()> {
        self.durable()
    }

    async fn quarantined(&self) -> Result<Vec<Quarantined>> {
        self.quarantined_sync()
    }

    fn outbox(&self) -> &dyn Outbox {
        self
    }
}

#[async_trait]
impl Outbox for SledJournal {
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Delivery>> {
        let mut out = Vec::new();
        for item in self.inner.outbox.iter() {
            let (key, raw) = item?;
            // One bad delivery never stalls the others: it is set aside.
            let Some(d) = self.decode_or_set_aside::<Delivery>("outbox", &key, &raw)? else {
                continue;
            };
            if d.next_attempt_at <= now {
                out.push(d);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn take(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        hold: std::time::Duration,
    ) -> Result<Vec<Delivery>> {
        let until = chrono::Duration::from_std(hold)
            .ok()
            .and_then(|h| now.checked_add_signed(h))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut held = self.inner.held.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|_, end| *end > now);
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for item in self.inner.outbox.iter() {
            let (key, raw) = item?;
            if held.contains_key(key.as_ref()) {
                continue;
            }
            let Some(d) = self.decode_or_set_aside::<Delivery>("outbox", &key, &raw)? else {
                continue;
            };
            if d.next_attempt_at <= now {
                held.insert(key.to_vec(), until);
                out.push(d);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn len(&self) -> Result<usize> {
        Ok(self.inner.outbox.len())
    }

    async fn record(
        &self,
        delivery: &Delivery,
        retry: Option<DateTime<Utc>>,
        kind: EventKind,
    ) -> Result<Event> {
        let i = &self.inner;
        let id = delivery.job_id;
        let key = self.event_key(id)?;
        let event_id = Uuid::now_v7();
        let next = retry.map(|at| {
            let mut d = delivery.clone();
            d.attempts += 1;
            d.next_attempt_at = at;
            d
        });
        let next_bytes = next.as_ref().map(encode).transpose()?;
        let okey = Self::outbox_key(delivery);
        let res = (&i.events, &i.last_event, &i.outbox).transaction(|(events, last, outbox)| {
            let causation = last
                .get(id.as_bytes())?
                .and_then(|b| Uuid::from_slice(&b).ok());
            let mut event = Event::new(id, causation, kind.clone());
            event.event_id = event_id;
            let bytes =
                encode(&event).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
            events.insert(&key[..], bytes)?;
            last.insert(id.as_bytes(), event.event_id.as_bytes())?;
            // A delivery that is gone (finished by another dispatcher) is not brought back.
            if outbox.remove(okey.clone())?.is_some() {
                if let Some(b) = &next_bytes {
                    outbox.insert(okey.clone(), b.clone())?;
                }
            }
            Ok(event)
        });
        let ev = unwrap_tx(res)?;
        // Recorded: no longer held (a retry is taken again when it is due).
        self.inner
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&okey);
        self.durable()?;
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{JobRequest, Source};
    use crate::journal::{no_deliveries, NewDelivery, RECORD_VERSION, WEBHOOK_NOTIFIER};

    fn job(priority: Priority, key: Option<&str>) -> Job {
        let mut req = JobRequest::new("/tmp/a.wav").priority(priority);
        req.idempotency_key = key.map(str::to_string);
        Job::from_request(
            &req,
            Source::File {
                path: "/tmp/a.wav".into(),
            },
        )
    }

    fn created(c: Created) -> Job {
        match c {
            Created::New(j, _) => j,
            Created::Existing(j) => panic!("unexpected existing job {}", j.id),
        }
    }

    #[tokio::test]
    async fn queue_order_is_priority_then_age() {
        let dir = tempfile::tempdir().unwrap();
        let j = SledJournal::open(dir.path()).unwrap();
        let low = created(j.create(job(Priority::Low, None)).await.unwrap());
        let n1 = created(j.create(job(Priority::Normal, None)).await.unwrap());
        let high = created(j.create(job(Priority::High, None)).await.unwrap());
        let n2 = created(j.create(job(Priority::Normal, None)).await.unwrap());
        let mut order = Vec::new();
        while let Some((job, ev)) = j.claim_next().await.unwrap() {
            assert_eq!(job.status, JobStatus::Downloading);
            assert_eq!(ev.event_type(), "download_started");
            order.push(job.id);
        }
        assert_eq!(order, vec![high.id, n1.id, n2.id, low.id]);
    }

    #[tokio::test]
    async fn idempotency_key_returns_existing_job() {
        let dir = tempfile::tempdir().unwrap();
        let j = SledJournal::open(dir.path()).unwrap();
        let first = created(j.create(job(Priority::Normal, Some("k1"))).await.unwrap());
        match j.create(job(Priority::High, Some("k1"))).await.unwrap() {
            Created::Existing(e) => assert_eq!(e.id, first.id),
            Created::New(..) => panic!("a second job was created for the same key"),
        }
        assert_eq!(j.list(&JobFilter::all()).await.unwrap().len(), 1);
        created(j.create(job(Priority::Normal, Some("k2"))).await.unwrap());
        assert_eq!(j.list(&JobFilter::all()).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn transitions_write_events_with_causation_chain() {
        let dir = tempfile::tempdir().unwrap();
        let j = SledJournal::open(dir.path()).unwrap();
        let a = created(j.create(job(Priority::Normal, None)).await.unwrap());
        j.claim_next().await.unwrap().unwrap();
        j.append(
            a.id,
            EventKind::AudioReady {
                duration_seconds: 1.0,
                size_bytes: 1,
            },
        )
        .await
        .unwrap();
        j.transition(
            a.id,
            JobStatus::Transcribing,
            JobPatch::default(),
            EventKind::TranscriptionStarted {
                model: "m".into(),
                language: "en".into(),
                resumed_chunks: 0,
            },
        )
        .await
        .unwrap();
        // Illegal: transcribing -> downloading. Nothing is written.
        let err = j
            .transition(
                a.id,
                JobStatus::Downloading,
                JobPatch::default(),
                EventKind::DownloadStarted { attempt: 9 },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "illegal_transition");
        let evs = j.events(a.id).await.unwrap();
        let types: Vec<_> = evs.iter().map(|e| e.event_type()).collect();
        assert_eq!(
            types,
            [
                "job_created",
                "download_started",
                "audio_ready",
                "transcription_started"
            ]
        );
        assert!(evs[0].causation_id.is_none());
        for w in evs.windows(2) {
            assert_eq!(w[1].causation_id, Some(w[0].event_id));
        }
        let got = j.get(a.id).await.unwrap().unwrap();
        assert_eq!(got.status, JobStatus::Transcribing);
        assert_eq!(got.attempts, 1);
    }

    #[tokio::test]
    async fn chunk_checkpoints_survive_reopen_and_go_with_the_job() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let j = SledJournal::open(dir.path()).unwrap();
            let a = created(j.create(job(Priority::Normal, None)).await.unwrap());
            // Not running yet: refused.
            let cp = |i: u32| {
                ChunkCheckpoint::new(
                    i,
                    i as u64 * 100,
                    (i as u64 + 1) * 100,
                    "en".into(),
                    None,
                    vec![],
                    true,
                )
            };
            assert_eq!(
                j.save_chunk(a.id, cp(0)).await.unwrap_err().code(),
                "illegal_transition"
            );
            j.claim_next().await.unwrap().unwrap();
            let ev = j.save_chunk(a.id, cp(1)).await.unwrap();
            assert_eq!(ev.event_type(), "chunk_transcribed");
            j.save_chunk(a.id, cp(0)).await.unwrap();
            a.id
        };
        let j = SledJournal::open(dir.path()).unwrap();
        let got = j.chunks(id).await.unwrap();
        assert_eq!(got.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1]);
        j.recover(3, &no_deliveries).await.unwrap();
        assert_eq!(
            j.chunks(id).await.unwrap().len(),
            2,
            "a requeued job keeps its chunks"
        );
        j.claim_next().await.unwrap().unwrap();
        j.transition(
            id,
            JobStatus::Cancelled,
            JobPatch::default(),
            EventKind::JobCancelled {
                from: String::new(),
            },
        )
        .await
        .unwrap();
        assert!(
            j.chunks(id).await.unwrap().is_empty(),
            "a finished job's chunks are removed"
        );
    }

    #[tokio::test]
    async fn cancel_removes_from_queue_and_terminal_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let j = SledJournal::open(dir.path()).unwrap();
        let a = created(j.create(job(Priority::Normal, None)).await.unwrap());
        j.transition(
            a.id,
            JobStatus::Cancelled,
            JobPatch::default(),
            EventKind::JobCancelled {
                from: "pending".into(),
            },
        )
        .await
        .unwrap();
        assert!(j.claim_next().await.unwrap().is_none());
        let err = j
            .transition(
                a.id,
                JobStatus::Cancelled,
                JobPatch::default(),
                EventKind::JobCancelled {
                    from: "cancelled".into(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "illegal_transition");
        let missing = j
            .transition(
                JobId::new(),
                JobStatus::Cancelled,
                JobPatch::default(),
                EventKind::JobCancelled { from: "x".into() },
            )
            .await
            .unwrap_err();
        assert_eq!(missing.code(), "job_not_found");
    }

    #[tokio::test]
    async fn recovery_requeues_running_jobs_after_reopen_and_fails_exhausted_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = {
            let j = SledJournal::open(dir.path()).unwrap();
            let a = created(j.create(job(Priority::Normal, None)).await.unwrap());
            let b = created(j.create(job(Priority::Normal, None)).await.unwrap());
            j.claim_next().await.unwrap().unwrap();
            // A second journal in the same directory is refused while this one is open.
            let err = SledJournal::open(dir.path()).err().expect("must be locked");
            assert_eq!(err.code(), "journal_locked");
            assert!(
                err.to_string().contains(&std::process::id().to_string()),
                "{err}"
            );
            (a, b)
        };
        let j = SledJournal::open(dir.path()).unwrap();
        let evs = j.recover(3, &no_deliveries).await.unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].event_type(), "job_requeued");
        assert_eq!(evs[0].job_id, a.id);
        // a is back at the head of the queue (older than b), with its attempt counted.
        let (again, ev) = j.claim_next().await.unwrap().unwrap();
        assert_eq!(again.id, a.id);
        assert_eq!(again.attempts, 2);
        assert_eq!(ev.kind, EventKind::DownloadStarted { attempt: 2 });
        let _ = b;
        // With max_attempts = 2 the next recovery fails it instead.
        let evs = j.recover(2, &no_deliveries).await.unwrap();
        assert_eq!(evs[0].event_type(), "transcription_failed");
        let failed = j.get(a.id).await.unwrap().unwrap();
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.error.unwrap().code, "attempts_exhausted");
    }

    #[tokio::test]
    async fn terminal_change_records_its_deliveries_atomically_and_attempts_update_them() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now() + chrono::Duration::seconds(1);
        let hook = NewDelivery::new(WEBHOOK_NOTIFIER, "https://hooks.example/x");
        let (hooked, event_id) = {
            let j = SledJournal::open(dir.path()).unwrap();
            let hooked = created(j.create(job(Priority::Normal, None)).await.unwrap());
            let plain = created(j.create(job(Priority::Normal, None)).await.unwrap());
            // Transitions without deliveries record nothing.
            j.claim_next().await.unwrap().unwrap();
            assert_eq!(j.len().await.unwrap(), 0);
            j.transition(
                plain.id,
                JobStatus::Cancelled,
                JobPatch::default(),
                EventKind::JobCancelled {
                    from: String::new(),
                },
            )
            .await
            .unwrap();
            assert_eq!(j.len().await.unwrap(), 0);
            let (_, ev) = j
                .transition(
                    hooked.id,
                    JobStatus::Cancelled,
                    JobPatch::default().deliveries([hook.clone(), NewDelivery::new("mine", "")]),
                    EventKind::JobCancelled {
                        from: String::new(),
                    },
                )
                .await
                .unwrap();
            (hooked, ev.event_id)
        };
        // Durable across reopen.
        let j = SledJournal::open(dir.path()).unwrap();
        assert_eq!(j.outbox().len().await.unwrap(), 2);
        let due = j.outbox().due(now, 10).await.unwrap();
        assert_eq!(due.len(), 2);
        let d = due.iter().find(|d| d.notifier == WEBHOOK_NOTIFIER).unwrap();
        assert_eq!(d.event_id, event_id);
        assert_eq!(d.job_id, hooked.id);
        assert_eq!(d.target, "https://hooks.example/x");
        assert_eq!(d.attempts, 0);
        let body = d.payload();
        assert_eq!(body["type"], "job_cancelled");
        assert_eq!(body["status"], "cancelled");
        assert_eq!(body["job_id"], hooked.id.to_string());
        let mine = due.iter().find(|d| d.notifier == "mine").unwrap();
        assert_eq!(mine.body, d.body);
        // A failed attempt keeps it (one more attempt, later), with its event.
        let later = now + chrono::Duration::seconds(60);
        let ev = j
            .record(
                d,
                Some(later),
                EventKind::NotificationFailed {
                    webhook_id: d.event_id.to_string(),
                    notifier: d.notifier.clone(),
                    notified_event: d.event_type.clone(),
                    url: crate::redact::url(&d.target),
                    attempt: 1,
                    status: Some(503),
                    error: "503".into(),
                    next_attempt_at: Some(later),
                },
            )
            .await
            .unwrap();
        assert_eq!(ev.causation_id, Some(event_id));
        let still = j.due(now, 10).await.unwrap();
        assert_eq!(still.len(), 1);
        assert_eq!(still[0].notifier, "mine");
        let again: Vec<_> = j
            .due(later, 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.notifier == WEBHOOK_NOTIFIER)
            .collect();
        assert_eq!(again[0].attempts, 1);
        assert_eq!(
            again[0].body, d.body,
            "the same bytes are signed every time"
        );
        // Delivered: gone from the outbox; both attempts are in the job's events.
        j.record(
            &again[0],
            None,
            EventKind::NotificationSent {
                webhook_id: d.event_id.to_string(),
                notifier: d.notifier.clone(),
                notified_event: d.event_type.clone(),
                url: crate::redact::url(&d.target),
                attempt: 2,
                status: 200,
            },
        )
        .await
        .unwrap();
        assert_eq!(j.len().await.unwrap(), 1);
        let types: Vec<_> = j
            .events(hooked.id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.event_type())
            .collect();
        assert!(types.ends_with(&["job_cancelled", "notification_failed", "notification_sent"]));
    }

    #[tokio::test]
    async fn outbox_records_of_earlier_versions_are_rekeyed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let event_id = Uuid::now_v7();
        {
            let db = sled::open(dir.path()).unwrap();
            let outbox = db.open_tree("outbox").unwrap();
            let old = serde_json::json!({
                "webhook_id": event_id, "job_id": JobId::new(), "url": "https://hooks.example/x",
                "event_type": "job_cancelled", "body": "{}", "created_at": Utc::now(),
                "attempts": 1, "next_attempt_at": Utc::now(),
            });
            outbox
                .insert(event_id.as_bytes(), serde_json::to_vec(&old).unwrap())
                .unwrap();
            db.flush().unwrap();
        }
        let j = SledJournal::open(dir.path()).unwrap();
        let due = j
            .due(Utc::now() + chrono::Duration::seconds(1), 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].notifier, WEBHOOK_NOTIFIER);
        assert_eq!(due[0].event_id, event_id);
        // Recording a final attempt removes it: the key was rewritten consistently.
        j.record(
            &due[0],
            None,
            EventKind::NotificationSent {
                webhook_id: event_id.to_string(),
                notifier: WEBHOOK_NOTIFIER.into(),
                notified_event: "job_cancelled".into(),
                url: crate::redact::url(&due[0].target),
                attempt: 2,
                status: 200,
            },
        )
        .await
        .unwrap();
        assert_eq!(j.len().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn undecodable_records_are_quarantined_and_the_rest_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (bad, legacy, good) = {
            let j = SledJournal::open(dir.path()).unwrap();
            let bad = created(j.create(job(Priority::High, Some("k-bad"))).await.unwrap());
            let good = created(j.create(job(Priority::Low, None)).await.unwrap());
            let legacy = created(j.create(job(Priority::Normal, None)).await.unwrap());
            // Written by an earlier version: bare JSON, no version prefix.
            let raw = j.inner.jobs.get(legacy.id.as_bytes()).unwrap().unwrap();
            assert!(
                raw.starts_with(RECORD_VERSION),
                "new records carry the version"
            );
            let bare = raw[RECORD_VERSION.len()..].to_vec();
            j.inner.jobs.insert(legacy.id.as_bytes(), bare).unwrap();
            // A job record and an outbox record corrupted on disk.
            j.inner
                .jobs
                .insert(bad.id.as_bytes(), &b"v1:{\"id\": tru\xff"[..])
                .unwrap();
            j.inner
                .outbox
                .insert(&[7u8; 20][..], &b"\x00\x01 not a delivery"[..])
                .unwrap();
            j.durable().unwrap();
            (bad, legacy, good)
        };
        // It opens; the bad records are set aside and reported, the others work.
        let j = SledJournal::open(dir.path()).unwrap();
        let q = j.quarantined().await.unwrap();
        let mut trees: Vec<&str> = q.iter().map(|q| q.tree.as_str()).collect();
        trees.sort();
        assert_eq!(trees, ["jobs", "outbox"], "{q:?}");
        assert!(q.iter().any(|q| q.key == hex::encode(bad.id.as_bytes())
            && q.job_id.as_deref() == Some(bad.id.to_string().as_str())));
        // Asking for it is a typed error that says it was set aside; nothing else changed.
        let e = j.get(bad.id).await.unwrap_err();
        assert_eq!(e.code(), "journal_error");
        assert!(e.to_string().contains("set aside"), "{e}");
        assert_eq!(
            j.events(bad.id).await.unwrap().len(),
            1,
            "its history is kept"
        );
        let listed: Vec<JobId> = j
            .list(&JobFilter::all())
            .await
            .unwrap()
            .iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&legacy.id) && listed.contains(&good.id));
        assert!(j.due(Utc::now(), 10).await.unwrap().is_empty());
        // The legacy record (normal) is claimed before the low one; the bad one is gone from
        // the queue.
        let (first, _) = j.claim_next().await.unwrap().unwrap();
        assert_eq!(first.id, legacy.id);
        // A record corrupted while the journal is open is set aside by the claim that meets it.
        j.inner
            .jobs
            .insert(good.id.as_bytes(), &b"garbage"[..])
            .unwrap();
        assert!(j.claim_next().await.unwrap().is_none());
        assert_eq!(j.quarantined().await.unwrap().len(), 3);
        // The quarantined job's idempotency key is free again.
        let again = j
            .create(job(Priority::Normal, Some("k-bad")))
            .await
            .unwrap();
        assert_ne!(created(again).id, bad.id);
    }

    fn checkpoint(index: u32) -> ChunkCheckpoint {
        let s = index as u64 * 16_000;
        ChunkCheckpoint::new(index, s, s + 16_000, "en".into(), None, Vec::new(), true)
    }

    /// Corrupts the record `key` of `tree` on disk (no version prefix check: raw bytes).
    fn corrupt(j: &SledJournal, tree: &str, key: &[u8], bytes: &[u8]) {
        j.tree(tree).unwrap().insert(key, bytes).unwrap();
        j.durable().unwrap();
    }

    #[tokio::test]
    async fn records_corrupted_while_open_are_set_aside_by_the_reader_that_meets_them() {
        let dir = tempfile::tempdir().unwrap();
        let j = SledJournal::open(dir.path()).unwrap();
        let a = created(j.create(job(Priority::Normal, None)).await.unwrap());
        let b = created(j.create(job(Priority::Normal, None)).await.unwrap());
        let c = created(j.create(job(Priority::Normal, None)).await.unwrap());
        // A listing skips a bad job (and sets it aside).
        corrupt(&j, "jobs", a.id.as_bytes(), b"v1:{");
        let listed = j.list(&JobFilter::all()).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(j.quarantined().await.unwrap().len(), 1);
        // A newest-first page too.
        corrupt(
            &j,
            "jobs",
            c.id.as_bytes(),
            b"v2:{\"from\": \"the future\"}",
        );
        let page = j.list(&JobFilter::all().limit(5)).await.unwrap();
        assert_eq!(page.iter().map(|x| x.id).collect::<Vec<_>>(), [b.id]);
        let q = j.quarantined().await.unwrap();
        assert!(
            q.iter().any(|q| q.error.contains("record version 2")),
            "{q:?}"
        );
        // A transition of a job corrupted under it: a typed error, the job set aside.
        let (claimed, _) = j.claim_next().await.unwrap().unwrap();
        assert_eq!(claimed.id, b.id);
        j.save_chunk(b.id, checkpoint(0)).await.unwrap();
        j.save_chunk(b.id, checkpoint(1)).await.unwrap();
        // A bad checkpoint is skipped (that chunk is transcribed again); a bad event too.
        let mut ck = b.id.as_bytes().to_vec();
        ck.extend_from_slice(&1u32.to_be_bytes());
        corrupt(&j, "chunks", &ck, b"\x00");
        assert_eq!(j.chunks(b.id).await.unwrap().len(), 1);
        let events = j.events(b.id).await.unwrap();
        let mut ek = b.id.as_bytes().to_vec();
        ek.extend_from_slice(&[0xff; 8]);
        corrupt(&j, "events", &ek, b"nope");
        assert_eq!(j.events(b.id).await.unwrap().len(), events.len());
        corrupt(&j, "jobs", b.id.as_bytes(), b"{}");
        let e = j
            .transition(
                b.id,
                JobStatus::Cancelled,
                JobPatch::default(),
                EventKind::JobCancelled {
                    from: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "journal_error");
        let mut trees: Vec<String> = j
            .quarantined()
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.tree)
            .collect();
        trees.sort();
        assert_eq!(trees, ["chunks", "events", "jobs", "jobs", "jobs"]);
        assert!(j.list(&JobFilter::all()).await.unwrap().is_empty());
        // A bad delivery never stalls the due ones.
        corrupt(&j, "outbox", &[1u8; 20], b"v1:[]");
        assert!(j.due(Utc::now(), 10).await.unwrap().is_empty());
        assert_eq!(j.outbox().len().await.unwrap(), 0);
        assert_eq!(j.quarantined().await.unwrap().len(), 6);
    }

    #[tokio::test]
    async fn check_reports_every_bad_record_and_repair_sets_them_aside() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = {
            let j = SledJournal::open(dir.path()).unwrap();
            let a = created(j.create(job(Priority::Normal, Some("ka"))).await.unwrap());
            let b = created(j.create(job(Priority::Normal, None)).await.unwrap());
            corrupt(&j, "jobs", a.id.as_bytes(), b"\xff\xfe");
            corrupt(&j, "last_event", b.id.as_bytes(), b"short");
            corrupt(&j, "queue", b"x", b"");
            let mut ek = b.id.as_bytes().to_vec();
            ek.extend_from_slice(&[0xff; 8]);
            corrupt(&j, "events", &ek, b"v1:{\"truncated");
            (a, b)
        };
        // A check alone changes nothing.
        for _ in 0..2 {
            let r = SledJournal::check(dir.path(), false).unwrap();
            assert_eq!(r.bad.len(), 4, "{r:?}");
            assert_eq!(r.repaired, 0);
            assert!(r.quarantined.is_empty());
            assert_eq!(r.records["jobs"], 1);
            assert_eq!(r.records["events"], 2);
            let bad_job = r.bad.iter().find(|x| x.tree == "jobs").unwrap();
            assert_eq!(bad_job.job_id.as_deref(), Some(a.id.to_string().as_str()));
        }
        let r = SledJournal::check(dir.path(), true).unwrap();
        assert_eq!((r.bad.len(), r.repaired, r.quarantined.len()), (4, 4, 4));
        let r = SledJournal::check(dir.path(), false).unwrap();
        assert_eq!((r.bad.len(), r.quarantined.len()), (0, 4));
        // The good job still works; the quarantined job's key is free.
        let j = SledJournal::open(dir.path()).unwrap();
        assert_eq!(j.claim_next().await.unwrap().unwrap().0.id, b.id);
        assert_eq!(j.events(b.id).await.unwrap().len(), 2);
        assert_ne!(
            created(j.create(job(Priority::Normal, Some("ka"))).await.unwrap()).id,
            a.id
        );
        assert!(SledJournal::check(dir.path().join("nope"), false).is_err());
    }
}
