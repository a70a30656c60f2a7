//! The PostgreSQL journal and outbox: one queue shared by many workers on many machines.
//!
//! Chosen by a `postgres://` journal URL (the `journal` setting). The schema is created and
//! migrated by [`PgJournal::connect`]: versioned migrations recorded in
//! `ytcaption_migrations`, applied in one transaction under `pg_advisory_xact_lock`, so several
//! processes starting at once are safe (the first applies them, the others find them done).
//!
//! Tables (prefix `ytc_`):
//! * `ytc_jobs`: one row per job: the job as JSON (`body`), plus the columns the queue and the
//!   leases need (`status`, `priority_rank`, `owner`, `idempotency_key`, `lease_token`,
//!   `lease_expires_at`, `last_event`). Idempotency keys are unique per
//!   `(coalesce(owner, ''), idempotency_key)`.
//! * `ytc_events`: the event log (`seq` orders a job's events).
//! * `ytc_chunks`: chunk checkpoints of running jobs.
//! * `ytc_outbox`: pending deliveries, keyed by (event id, notifier).
//!
//! Every method is one transaction: a state change, its event, its outbox rows and its queue
//! position commit together. The job row is locked (`FOR UPDATE`) for the change, so one job's
//! events are serialized; claims take the queue head with `FOR UPDATE SKIP LOCKED`, so
//! concurrent workers (in any process) never get the same job and never wait on each other.
//!
//! **Leases.** A claim gives the job a lease: a fresh token and an expiry
//! ([`lease`](PgJournal::lease) from now, by the database's clock). The claiming handle renews
//! it ([`Journal::renew`]) while it works; [`Journal::recover`] puts back (or fails, by
//! [`Recovery::of`]) only running jobs whose lease expired, so a live worker's job is never
//! taken. Writes by a handle about a job it claimed are fenced by the token: once the lease
//! passed to another worker (or the job was cancelled), they are refused with
//! `illegal_transition` and write nothing, so a worker that lost its lease cannot record
//! results.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::{NoTls, Transaction};
use uuid::Uuid;

use super::{
    ChunkCheckpoint, Created, Delivery, DeliveryPlan, JobFilter, JobPatch, Journal, Outbox,
    Recovery,
};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::job::{Job, JobId, JobStatus};

mod chunk_tasks;

/// The default lease of a claimed job.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Connections a journal keeps at most.
const POOL_SIZE: usize = 8;

/// The advisory lock key under which migrations run (any fixed number; "ytcapt" in ASCII).
const MIGRATION_LOCK: i64 = 0x7974_6361_7074;

/// The schema, one entry per version, applied in order. Never edit a released entry: add one.
const MIGRATIONS: &[&str] = &[
    // 1: jobs, events, chunk checkpoints, outbox.
    r#"
    CREATE TABLE ytc_jobs (
        id uuid PRIMARY KEY,
        status text NOT NULL,
        priority_rank smallint NOT NULL,
        owner text,
        idempotency_key text,
        body text NOT NULL,
        last_event uuid,
        lease_token uuid,
        lease_expires_at timestamptz
    );
    CREATE UNIQUE INDEX ytc_jobs_idempotency ON ytc_jobs ((coalesce(owner, '')), idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX ytc_jobs_queue ON ytc_jobs (priority_rank, id) WHERE status = 'pending';
    CREATE INDEX ytc_jobs_running ON ytc_jobs (lease_expires_at)
        WHERE status IN ('downloading', 'transcribing');
    CREATE INDEX ytc_jobs_status ON ytc_jobs (status, id);
    CREATE TABLE ytc_events (
        seq bigserial PRIMARY KEY,
        job_id uuid NOT NULL,
        event_id uuid NOT NULL UNIQUE,
        body text NOT NULL
    );
    CREATE INDEX ytc_events_job ON ytc_events (job_id, seq);
    CREATE TABLE ytc_chunks (
        job_id uuid NOT NULL,
        idx integer NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (job_id, idx)
    );
    CREATE TABLE ytc_outbox (
        event_id uuid NOT NULL,
        notifier text NOT NULL,
        job_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (event_id, notifier)
    );
    CREATE INDEX ytc_outbox_due ON ytc_outbox (next_attempt_at);
    "#,
    // 2: posted chunks (chunk fan-out).
    chunk_tasks::MIGRATION,
    // 3: outbox holds: a dispatcher that takes a delivery holds it until `claimed_until`.
    r#"
    ALTER TABLE ytc_outbox ADD COLUMN claimed_until timestamptz;
    "#,
];

/// Whether `journal` (the `journal` setting) names a PostgreSQL database.
pub fn is_postgres_url(journal: &str) -> bool {
    let lower = journal.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

fn pg_err(doing: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    let e = e.into();
    Error::journal_with(format!("postgres: {doing}"), e)
}

/// The PostgreSQL-backed [`Journal`] and [`Outbox`]. Cheap to share behind an `Arc`; many
/// handles in many processes may use one database at once.
pub struct PgJournal {
    pool: Pool,
    lease: Duration,
    /// Jobs this handle claimed, with their lease tokens (`None`: the lease was lost): its
    /// writes about them are fenced by the token, and refused once the lease is lost.
    held: Mutex<HashMap<JobId, Option<Uuid>>>,
    /// The URL without its password, for messages.
    shown: String,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("url", &self.shown)
            .field("lease", &self.lease)
            .finish()
    }
}

/// What [`PgJournal::copy_from`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyReport {
    /// Jobs copied.
    pub jobs: usize,
    /// Jobs the journal already had (left alone).
    pub skipped: usize,
    /// Events copied.
    pub events: usize,
    /// Chunk checkpoints copied.
    pub chunks: usize,
    /// Pending deliveries copied.
    pub deliveries: usize,
}

/// A job row, locked for a change.
struct Locked {
    job: Job,
    last_event: Option<Uuid>,
    lease_token: Option<Uuid>,
}

impl PgJournal {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`), creating
    /// or migrating the schema, with the [`DEFAULT_LEASE`].
    pub async fn connect(url: &str) -> Result<PgJournal> {
        Self::connect_with_lease(url, DEFAULT_LEASE).await
    }

    /// Like [`connect`](Self::connect), with claims leased for `lease` (at least 100 ms).
    pub async fn connect_with_lease(url: &str, lease: Duration) -> Result<PgJournal> {
        if lease < Duration::from_millis(100) {
            return Err(Error::invalid(format!(
                "a journal lease must be at least 0.1 s, got {} s",
                lease.as_secs_f64()
            )));
        }
        let shown = crate::redact::url(url);
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            Error::invalid(format!(
                "journal: {shown} is not a PostgreSQL URL this program understands: {e}"
            ))
        })?;
        let mgr = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| pg_err("building the connection pool", e))?;
        let journal = PgJournal {
            pool,
            lease,
            held: Mutex::new(HashMap::new()),
            shown,
        };
        journal.migrate().await?;
        Ok(journal)
    }

    /// How long a claim lasts without renewal.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The schema version of this program (the number of migrations it knows).
    pub fn schema_version() -> i32 {
        MIGRATIONS.len() as i32
    }

    /// Copies every job of `from` (another journal: the sled one a deployment outgrew) into
    /// this one, with its events (ids, times and order kept), chunk checkpoints and pending
    /// deliveries: `ytcaption journal copy`. Jobs this journal already has are left alone, so
    /// an interrupted copy can be run again. A job `from` had running (its process gone)
    /// arrives without a lease, so the next recovery requeues it, resuming from its chunks.
    /// Results stay where they are (their keys are in the events); point the new workers at
    /// the same store.
    pub async fn copy_from(&self, from: &dyn Journal) -> Result<CopyReport> {
        let mut report = CopyReport::default();
        let deliveries = from
            .outbox()
            .due(DateTime::<Utc>::MAX_UTC, usize::MAX)
            .await?;
        for job in from.list(&JobFilter::all()).await? {
            let events = from.events(job.id).await?;
            let chunks = from.chunks(job.id).await?;
            let mut client = self.client().await?;
            let tx = client
                .transaction()
                .await
                .map_err(|e| pg_err("starting a transaction", e))?;
            let owner = job.owner.clone();
            // A key past its expiry names no job (a later job may hold it): not indexed.
            let key = job
                .idempotency_key
                .clone()
                .filter(|_| !job.idempotency_expired(Utc::now()));
            let inserted = tx
                .execute(
                    "INSERT INTO ytc_jobs (id, status, priority_rank, owner, idempotency_key, \
                     body, last_event) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                    &[
                        &job.id.0,
                        &job.status.as_str(),
                        &(job.priority.queue_rank() as i16),
                        &owner,
                        &key,
                        &serde_json::to_string(&job)?,
                        &events.last().map(|e| e.event_id),
                    ],
                )
                .await
                .map_err(|e| pg_err("copying a job", e))?;
            if inserted == 0 {
                report.skipped += 1;
                continue;
            }
            for ev in &events {
                tx.execute(
                    "INSERT INTO ytc_events (job_id, event_id, body) VALUES ($1, $2, $3)",
                    &[&job.id.0, &ev.event_id, &serde_json::to_string(ev)?],
                )
                .await
                .map_err(|e| pg_err("copying an event", e))?;
            }
            for c in &chunks {
                tx.execute(
                    "INSERT INTO ytc_chunks (job_id, idx, body) VALUES ($1, $2, $3)",
                    &[&job.id.0, &(c.index as i32), &serde_json::to_string(c)?],
                )
                .await
                .map_err(|e| pg_err("copying a chunk checkpoint", e))?;
            }
            for d in deliveries.iter().filter(|d| d.job_id == job.id) {
                tx.execute(
                    "INSERT INTO ytc_outbox (event_id, notifier, job_id, created_at,                      next_attempt_at, body) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &d.event_id,
                        &d.notifier,
                        &d.job_id.0,
                        &d.created_at,
                        &d.next_attempt_at,
                        &serde_json::to_string(d)?,
                    ],
                )
                .await
                .map_err(|e| pg_err("copying a delivery", e))?;
                report.deliveries += 1;
            }
            tx.commit()
                .await
                .map_err(|e| pg_err("committing a copied job", e))?;
            report.jobs += 1;
            report.events += events.len();
            report.chunks += chunks.len();
        }
        Ok(report)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| {
            Error::journal_with(
                format!("cannot connect to the journal at {}", self.shown),
                e,
            )
        })
    }

    /// Applies the migrations this database lacks, under an advisory lock.
    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting the migration", e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(|e| pg_err("taking the migration lock", e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS ytcaption_migrations (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(|e| pg_err("creating the migrations table", e))?;
        let have: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM ytcaption_migrations",
                &[],
            )
            .await
            .map_err(|e| pg_err("reading the schema version", e))?
            .get(0);
        if have > Self::schema_version() {
            return Err(Error::journal(format!(
                "the journal at {} has schema version {have}, newer than this program's {}: \
                 upgrade ytcaption",
                self.shown,
                Self::schema_version()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(have as usize) {
            let version = i as i32 + 1;
            tx.batch_execute(sql)
                .await
                .map_err(|e| pg_err(&format!("applying migration {version}"), e))?;
            tx.execute(
                "INSERT INTO ytcaption_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(|e| pg_err("recording a migration", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| pg_err("committing the migration", e))
    }

    fn lease_interval(&self) -> String {
        format!("{} milliseconds", self.lease.as_millis())
    }

    /// This handle's claim on `id`: `None` when it never claimed it (or let it go),
    /// `Some(None)` when it lost the lease, `Some(Some(token))` while it holds it.
    fn claim_of(&self, id: JobId) -> Option<Option<Uuid>> {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied()
    }

    fn set_claim(&self, id: JobId, claim: Option<Option<Uuid>>) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match claim {
            Some(c) => held.insert(id, c),
            None => held.remove(&id),
        };
    }

    /// Locks the job row. `JobNotFound` when there is none.
    async fn lock_job(tx: &Transaction<'_>, id: JobId) -> Result<Locked> {
        let row = tx
            .query_opt(
                "SELECT body, last_event, lease_token FROM ytc_jobs WHERE id = $1 FOR UPDATE",
                &[&id.0],
            )
            .await
            .map_err(|e| pg_err("reading a job", e))?
            .ok_or_else(|| Error::JobNotFound {
                job_id: id.to_string(),
            })?;
        let body: String = row.get(0);
        Ok(Locked {
            job: serde_json::from_str(&body)?,
            last_event: row.get(1),
            lease_token: row.get(2),
        })
    }

    /// Refuses a write about a job this handle claimed once its lease passed to another
    /// worker (or the job ended): the claim is dropped and nothing is written.
    fn fence(&self, locked: &Locked, what: &str) -> Result<()> {
        let id = locked.job.id;
        let Some(mine) = self.claim_of(id) else {
            return Ok(());
        };
        if mine.is_some() && locked.lease_token == mine {
            return Ok(());
        }
        self.set_claim(id, Some(None));
        let status = locked.job.status;
        let from = if status.is_terminal() {
            status.to_string()
        } else {
            format!("{status} (this worker's lease expired; the job was requeued)")
        };
        Err(Error::IllegalTransition {
            job_id: id.to_string(),
            from,
            to: what.to_string(),
        })
    }

    async fn insert_event(tx: &Transaction<'_>, event: &Event) -> Result<()> {
        let body = serde_json::to_string(event)?;
        tx.execute(
            "INSERT INTO ytc_events (job_id, event_id, body) VALUES ($1, $2, $3)",
            &[&event.job_id.0, &event.event_id, &body],
        )
        .await
        .map_err(|e| pg_err("writing an event", e))?;
        tx.execute(
            "UPDATE ytc_jobs SET last_event = $2 WHERE id = $1",
            &[&event.job_id.0, &event.event_id],
        )
        .await
        .map_err(|e| pg_err("writing an event", e))?;
        Ok(())
    }

    /// The core of every state change, inside `tx`: returns the changed job, its stored event
    /// and the job's new lease token (for a claim).
    async fn apply_transition(
        &self,
        tx: &Transaction<'_>,
        locked: Locked,
        to: JobStatus,
        patch: &JobPatch,
        kind: &EventKind,
    ) -> Result<(Job, Event, Option<Uuid>)> {
        self.fence(&locked, to.as_str())?;
        let mut job = locked.job;
        let before = job.status;
        job.transition(to)?;
        patch.apply_to(&mut job);
        let mut event = Event::new(job.id, locked.last_event, super::stamp_from(kind, before));
        event.timestamp = job.updated_at;
        let token = if to.is_running() && !before.is_running() {
            Some(Uuid::now_v7())
        } else if to.is_running() {
            locked.lease_token
        } else {
            None
        };
        let body = serde_json::to_string(&job)?;
        let lease = self.lease_interval();
        tx.execute(
            "UPDATE ytc_jobs SET status = $2, body = $3, lease_token = $4, \
             lease_expires_at = CASE WHEN $4::uuid IS NULL THEN NULL \
                 WHEN $4::uuid IS DISTINCT FROM lease_token THEN now() + $5::text::interval \
                 ELSE lease_expires_at END \
             WHERE id = $1",
            &[&job.id.0, &job.status.as_str(), &body, &token, &lease],
        )
        .await
        .map_err(|e| pg_err("writing a job", e))?;
        Self::insert_event(tx, &event).await?;
        for new in &patch.deliveries {
            let d = Delivery::for_event(&job, &event, new);
            let body = serde_json::to_string(&d)?;
            tx.execute(
                "INSERT INTO ytc_outbox (event_id, notifier, job_id, created_at, \
                 next_attempt_at, body) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (event_id, notifier) DO NOTHING",
                &[
                    &d.event_id,
                    &d.notifier,
                    &d.job_id.0,
                    &d.created_at,
                    &d.next_attempt_at,
                    &body,
                ],
            )
            .await
            .map_err(|e| pg_err("writing the outbox", e))?;
        }
        if to.is_terminal() {
            tx.execute("DELETE FROM ytc_chunks WHERE job_id = $1", &[&job.id.0])
                .await
                .map_err(|e| pg_err("removing chunk checkpoints", e))?;
            tx.execute(
                "DELETE FROM ytc_chunk_tasks WHERE job_id = $1",
                &[&job.id.0],
            )
            .await
            .map_err(|e| pg_err("removing posted chunks", e))?;
        }
        Ok((job, event, token))
    }

    /// One transition in its own transaction.
    async fn transition_tx(
        &self,
        id: JobId,
        to: JobStatus,
        patch: &JobPatch,
        kind: &EventKind,
    ) -> Result<(Job, Event)> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let locked = Self::lock_job(&tx, id).await?;
        let (job, event, _) = self.apply_transition(&tx, locked, to, patch, kind).await?;
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a transition", e))?;
        if !to.is_running() {
            // This handle requeued or ended the job: it holds no claim on it any more.
            self.set_claim(id, None);
        }
        Ok((job, event))
    }
}

#[async_trait]
impl Journal for PgJournal {
    async fn create(&self, job: Job) -> Result<Created> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let event = Event::new(
            job.id,
            None,
            EventKind::JobCreated {
                source: job.source.redacted(),
                priority: job.priority,
                language: job.language.to_string(),
            },
        );
        // Idempotency keys are unique per owner.
        let owner = job.owner.clone();
        let body = serde_json::to_string(&job)?;
        // A key whose job's expiry passed is taken from that job, then the insert is tried
        // again; a row that changed under a concurrent create is looked at again too.
        let mut took_expired_key = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let inserted = tx
                .execute(
                    "INSERT INTO ytc_jobs (id, status, priority_rank, owner, idempotency_key, body) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT ((coalesce(owner, '')), idempotency_key) \
                         WHERE idempotency_key IS NOT NULL DO NOTHING",
                    &[
                        &job.id.0,
                        &job.status.as_str(),
                        &(job.priority.queue_rank() as i16),
                        &owner,
                        &job.idempotency_key,
                        &body,
                    ],
                )
                .await
                .map_err(|e| pg_err("storing a job", e))?;
            if inserted > 0 {
                break;
            }
            let row = tx
                .query_opt(
                    "SELECT id, body FROM ytc_jobs WHERE coalesce(owner, '') = coalesce($1, '') \
                     AND idempotency_key = $2 FOR UPDATE",
                    &[&owner, &job.idempotency_key],
                )
                .await
                .map_err(|e| pg_err("reading the job of an idempotency key", e))?;
            let Some(row) = row else {
                // Its job gave the key up after our insert looked (a concurrent create of an
                // expired key, a deletion): insert again.
                if tries < 4 {
                    continue;
                }
                return Err(Error::journal(
                    "postgres: an idempotency key kept changing hands while creating a job",
                ));
            };
            let existing: Job = serde_json::from_str(row.get::<_, &str>(1))?;
            if took_expired_key || !existing.idempotency_expired(job.created_at) {
                return Ok(Created::Existing(existing));
            }
            // The old job keeps its record (and the key in it); the key's column, which the
            // unique index covers, goes to the new job.
            let old: Uuid = row.get(0);
            tx.execute(
                "UPDATE ytc_jobs SET idempotency_key = NULL WHERE id = $1",
                &[&old],
            )
            .await
            .map_err(|e| pg_err("releasing an expired idempotency key", e))?;
            took_expired_key = true;
        }
        Self::insert_event(&tx, &event).await?;
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a new job", e))?;
        Ok(Created::New(job, event))
    }

    async fn get(&self, id: JobId) -> Result<Option<Job>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT body FROM ytc_jobs WHERE id = $1", &[&id.0])
            .await
            .map_err(|e| pg_err("reading a job", e))?;
        match row {
            Some(r) => Ok(Some(serde_json::from_str(r.get::<_, &str>(0))?)),
            None => Ok(None),
        }
    }

    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let client = self.client().await?;
        let newest_first = filter.limit.is_some() || filter.before.is_some();
        let sql = format!(
            "SELECT body FROM ytc_jobs WHERE ($1::text IS NULL OR status = $1) \
             AND ($2::uuid IS NULL OR id < $2) AND ($4::text IS NULL OR owner = $4) \
             ORDER BY id {} LIMIT $3",
            if newest_first { "DESC" } else { "ASC" }
        );
        let status = filter.status.map(|s| s.as_str());
        let before = filter.before.map(|b| b.0);
        let limit = filter
            .limit
            .map(|l| i64::try_from(l).unwrap_or(i64::MAX))
            .unwrap_or(i64::MAX);
        let rows = client
            .query(&sql, &[&status, &before, &limit, &filter.owner])
            .await
            .map_err(|e| pg_err("listing jobs", e))?;
        rows.iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(Error::from))
            .collect()
    }

    async fn transition(
        &self,
        id: JobId,
        to: JobStatus,
        patch: JobPatch,
        event: EventKind,
    ) -> Result<(Job, Event)> {
        self.transition_tx(id, to, &patch, &event).await
    }

    async fn delete(&self, id: JobId) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let locked = match Self::lock_job(&tx, id).await {
            Ok(l) => l,
            Err(Error::JobNotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        if !locked.job.status.is_terminal() {
            return Err(Error::IllegalTransition {
                job_id: id.to_string(),
                from: locked.job.status.to_string(),
                to: "deleted".into(),
            });
        }
        for (sql, what) in [
            (
                "DELETE FROM ytc_events WHERE job_id = $1",
                "deleting events",
            ),
            (
                "DELETE FROM ytc_chunks WHERE job_id = $1",
                "deleting chunks",
            ),
            ("DELETE FROM ytc_jobs WHERE id = $1", "deleting a job"),
        ] {
            tx.execute(sql, &[&id.0])
                .await
                .map_err(|e| pg_err(what, e))?;
        }
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a deletion", e))?;
        Ok(true)
    }

    async fn append(&self, id: JobId, kind: EventKind) -> Result<Event> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let locked = Self::lock_job(&tx, id).await?;
        self.fence(&locked, kind.event_type())?;
        let event = Event::new(id, locked.last_event, kind);
        Self::insert_event(&tx, &event).await?;
        tx.commit()
            .await
            .map_err(|e| pg_err("committing an event", e))?;
        Ok(event)
    }

    async fn save_chunk(&self, id: JobId, chunk: ChunkCheckpoint) -> Result<Event> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let locked = Self::lock_job(&tx, id).await?;
        self.fence(&locked, "chunk checkpoint")?;
        if !locked.job.status.is_running() {
            return Err(Error::IllegalTransition {
                job_id: id.to_string(),
                from: locked.job.status.to_string(),
                to: "chunk checkpoint".into(),
            });
        }
        let kind = EventKind::ChunkTranscribed {
            index: chunk.index,
            start_seconds: chunk.start_sample as f64 / 16000.0,
            end_seconds: chunk.end_sample as f64 / 16000.0,
            segments: chunk.segments.len(),
            speech: chunk.speech,
        };
        let body = serde_json::to_string(&chunk)?;
        let idx = i32::try_from(chunk.index)
            .map_err(|_| Error::invalid(format!("chunk index {} is too large", chunk.index)))?;
        // `xmax = 0` only for a row this statement inserted (not one it updated).
        let row = tx
            .query_one(
                "INSERT INTO ytc_chunks (job_id, idx, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (job_id, idx) DO UPDATE SET body = excluded.body \
                 RETURNING (xmax = 0)",
                &[&id.0, &idx, &body],
            )
            .await
            .map_err(|e| pg_err("writing a chunk checkpoint", e))?;
        let new: bool = row.get(0);
        if new {
            // A chunk this job had no checkpoint for: progress (see Job::progress).
            let mut job = locked.job.clone();
            job.note_new_checkpoint();
            tx.execute(
                "UPDATE ytc_jobs SET body = $2 WHERE id = $1",
                &[&id.0, &serde_json::to_string(&job)?],
            )
            .await
            .map_err(|e| pg_err("writing a job", e))?;
        }
        let event = Event::new(id, locked.last_event, kind);
        Self::insert_event(&tx, &event).await?;
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a chunk checkpoint", e))?;
        Ok(event)
    }

    async fn chunks(&self, id: JobId) -> Result<Vec<ChunkCheckpoint>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT body FROM ytc_chunks WHERE job_id = $1 ORDER BY idx",
                &[&id.0],
            )
            .await
            .map_err(|e| pg_err("reading chunk checkpoints", e))?;
        rows.iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(Error::from))
            .collect()
    }

    async fn events(&self, id: JobId) -> Result<Vec<Event>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT body FROM ytc_events WHERE job_id = $1 ORDER BY seq",
                &[&id.0],
            )
            .await
            .map_err(|e| pg_err("reading events", e))?;
        rows.iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(Error::from))
            .collect()
    }

    async fn claim_next(&self) -> Result<Option<(Job, Event)>> {
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let row = tx
            .query_opt(
                "SELECT body, last_event, lease_token FROM ytc_jobs WHERE status = 'pending' \
                 ORDER BY priority_rank, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                &[],
            )
            .await
            .map_err(|e| pg_err("reading the queue", e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let body: String = row.get(0);
        let locked = Locked {
            job: serde_json::from_str(&body)?,
            last_event: row.get(1),
            lease_token: row.get(2),
        };
        let id = locked.job.id;
        let attempt = locked.job.attempts + 1;
        let (job, event, token) = self
            .apply_transition(
                &tx,
                locked,
                JobStatus::Downloading,
                &JobPatch::default(),
                &EventKind::DownloadStarted { attempt },
            )
            .await?;
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a claim", e))?;
        self.set_claim(id, Some(token));
        Ok(Some((job, event)))
    }

    async fn recover(&self, max_attempts: u32, plan: &DeliveryPlan<'_>) -> Result<Vec<Event>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id FROM ytc_jobs WHERE status IN ('downloading', 'transcribing') \
                 AND (lease_expires_at IS NULL OR lease_expires_at < now()) ORDER BY id",
                &[],
            )
            .await
            .map_err(|e| pg_err("looking for expired leases", e))?;
        drop(client);
        let mut out = Vec::new();
        for row in rows {
            let id = JobId(row.get(0));
            let mut client = self.client().await?;
            let tx = client
                .transaction()
                .await
                .map_err(|e| pg_err("starting a transaction", e))?;
            // Still expired, and not being recovered by another process right now.
            let row = tx
                .query_opt(
                    "SELECT body, last_event, lease_token FROM ytc_jobs WHERE id = $1 \
                     AND status IN ('downloading', 'transcribing') \
                     AND (lease_expires_at IS NULL OR lease_expires_at < now()) \
                     FOR UPDATE SKIP LOCKED",
                    &[&id.0],
                )
                .await
                .map_err(|e| pg_err("reading a job", e))?;
            let Some(row) = row else {
                continue;
            };
            let body: String = row.get(0);
            let locked = Locked {
                job: serde_json::from_str(&body)?,
                last_event: row.get(1),
                lease_token: row.get(2),
            };
            let r = Recovery::of(&locked.job, max_attempts, plan);
            // The lease ran out: whoever held it (this handle included) holds it no more.
            if self.claim_of(id).is_some() {
                self.set_claim(id, Some(None));
            }
            let (_, event, _) = self
                .apply_transition(&tx, locked, r.to, &r.patch, &r.event)
                .await?;
            tx.commit()
                .await
                .map_err(|e| pg_err("committing a recovery", e))?;
            out.push(event);
        }
        Ok(out)
    }

    async fn flush(&self) -> Result<()> {
        // Every call committed before it returned.
        Ok(())
    }

    fn outbox(&self) -> &dyn Outbox {
        self
    }

    fn lease(&self) -> Option<Duration> {
        Some(self.lease)
    }

    fn chunk_queue(&self) -> Option<&dyn super::ChunkQueue> {
        Some(self)
    }

    async fn event_log_end(&self) -> Result<Option<i64>> {
        let client = self.client().await?;
        let end: i64 = client
            .query_one("SELECT coalesce(max(seq), 0) FROM ytc_events", &[])
            .await
            .map_err(|e| pg_err("reading the event log", e))?
            .get(0);
        Ok(Some(end))
    }

    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Event)>> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(
                "SELECT seq, body FROM ytc_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &limit],
            )
            .await
            .map_err(|e| pg_err("reading the event log", e))?;
        rows.iter()
            .map(|r| Ok((r.get(0), serde_json::from_str(r.get::<_, &str>(1))?)))
            .collect()
    }

    async fn renew(&self, id: JobId) -> Result<()> {
        let lost = |status: String| Error::IllegalTransition {
            job_id: id.to_string(),
            from: status,
            to: "lease renewal".into(),
        };
        let token = match self.claim_of(id) {
            Some(Some(token)) => token,
            Some(None) => {
                return Err(lost(
                    "running elsewhere (this worker's lease expired; the job was requeued)".into(),
                ))
            }
            None => return Err(lost("not claimed by this worker".into())),
        };
        let client = self.client().await?;
        let lease = self.lease_interval();
        let renewed = client
            .execute(
                "UPDATE ytc_jobs SET lease_expires_at = now() + $3::text::interval \
                 WHERE id = $1 AND lease_token = $2 \
                 AND status IN ('downloading', 'transcribing')",
                &[&id.0, &token, &lease],
            )
            .await
            .map_err(|e| pg_err("renewing a lease", e))?;
        if renewed == 1 {
            return Ok(());
        }
        self.set_claim(id, Some(None));
        let status = match self.get(id).await? {
            Some(j) if j.status.is_terminal() => j.status.to_string(),
            Some(j) => format!(
                "{} (this worker's lease expired; the job was requeued)",
                j.status
            ),
            None => "gone".into(),
        };
        Err(lost(status))
    }
}

#[async_trait]
impl Outbox for PgJournal {
    async fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Delivery>> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(
                "SELECT body FROM ytc_outbox WHERE next_attempt_at <= $1 \
                 ORDER BY created_at, event_id, notifier LIMIT $2",
                &[&now, &limit],
            )
            .await
            .map_err(|e| pg_err("reading the outbox", e))?;
        let mut out: Vec<Delivery> = rows
            .iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(Error::from))
            .collect::<Result<_>>()?;
        // The column keeps microseconds; the record keeps the exact time.
        out.retain(|d| d.next_attempt_at <= now);
        Ok(out)
    }

    async fn take(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        hold: Duration,
    ) -> Result<Vec<Delivery>> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let until = chrono::Duration::from_std(hold)
            .ok()
            .and_then(|h| now.checked_add_signed(h))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        // One statement: the rows are locked as they are picked (skipping those another
        // dispatcher is taking right now) and marked held in the same transaction.
        let rows = client
            .query(
                "UPDATE ytc_outbox o SET claimed_until = $2 \
                 FROM (SELECT event_id, notifier FROM ytc_outbox \
                       WHERE next_attempt_at <= $1 \
                         AND (claimed_until IS NULL OR claimed_until <= $1) \
                       ORDER BY created_at, event_id, notifier LIMIT $3 \
                       FOR UPDATE SKIP LOCKED) t \
                 WHERE o.event_id = t.event_id AND o.notifier = t.notifier \
                 RETURNING o.body",
                &[&now, &until, &limit],
            )
            .await
            .map_err(|e| pg_err("taking from the outbox", e))?;
        let mut out: Vec<Delivery> = rows
            .iter()
            .map(|r| serde_json::from_str(r.get::<_, &str>(0)).map_err(Error::from))
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| {
            (a.created_at, a.event_id, &a.notifier).cmp(&(b.created_at, b.event_id, &b.notifier))
        });
        Ok(out)
    }

    async fn len(&self) -> Result<usize> {
        let client = self.client().await?;
        let n: i64 = client
            .query_one("SELECT count(*) FROM ytc_outbox", &[])
            .await
            .map_err(|e| pg_err("counting the outbox", e))?
            .get(0);
        Ok(n as usize)
    }

    async fn record(
        &self,
        delivery: &Delivery,
        retry: Option<DateTime<Utc>>,
        kind: EventKind,
    ) -> Result<Event> {
        let id = delivery.job_id;
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| pg_err("starting a transaction", e))?;
        let row = tx
            .query_opt(
                "SELECT last_event FROM ytc_jobs WHERE id = $1 FOR UPDATE",
                &[&id.0],
            )
            .await
            .map_err(|e| pg_err("reading a job", e))?;
        let causation = row.and_then(|r| r.get::<_, Option<Uuid>>(0));
        let event = Event::new(id, causation, kind);
        Self::insert_event(&tx, &event).await?;
        match retry {
            Some(at) => {
                let mut d = delivery.clone();
                d.attempts += 1;
                d.next_attempt_at = at;
                // A delivery that is gone (finished by another dispatcher) is not brought back.
                tx.execute(
                    "UPDATE ytc_outbox SET body = $3, next_attempt_at = $4, claimed_until = NULL \
                     WHERE event_id = $1 AND notifier = $2",
                    &[&d.event_id, &d.notifier, &serde_json::to_string(&d)?, &at],
                )
                .await
                .map_err(|e| pg_err("updating the outbox", e))?;
            }
            None => {
                tx.execute(
                    "DELETE FROM ytc_outbox WHERE event_id = $1 AND notifier = $2",
                    &[&delivery.event_id, &delivery.notifier],
                )
                .await
                .map_err(|e| pg_err("updating the outbox", e))?;
            }
        }
        tx.commit()
            .await
            .map_err(|e| pg_err("committing a delivery attempt", e))?;
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognized() {
        assert!(is_postgres_url("postgres://u@localhost/db"));
        assert!(is_postgres_url("postgresql://u:p@10.0.0.1:5433/db"));
        assert!(is_postgres_url("POSTGRES://u@h/d"));
        assert!(!is_postgres_url("/var/lib/ytcaption/journal"));
        assert!(!is_postgres_url("sled:///x"));
    }

    #[test]
    fn migrations_are_numbered_from_one() {
        assert_eq!(PgJournal::schema_version(), MIGRATIONS.len() as i32);
        assert!(MIGRATIONS.iter().all(|m| !m.trim().is_empty()));
    }
}
