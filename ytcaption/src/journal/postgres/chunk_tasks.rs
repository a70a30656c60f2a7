//! The PostgreSQL [`ChunkQueue`]: posted chunks in `ytc_chunk_tasks`, claimed
//! with `FOR UPDATE SKIP LOCKED` under a lease by the database's clock, as jobs are.

use async_trait::async_trait;
use uuid::Uuid;

use super::{pg_err, PgJournal};
use crate::error::Result;
use crate::job::JobId;
use crate::journal::{
    samples_from_bytes, samples_to_bytes, ChunkPlan, ChunkQueue, ChunkTask, ClaimedChunk,
};
use crate::transcript::Segment;

/// Claims a helping worker makes of one chunk before it leaves the chunk to the job's own
/// worker (which then meets the chunk's error itself).
const HELPER_ATTEMPTS: i32 = 3;

/// The migration that creates the table.
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE ytc_chunk_tasks (
        job_id uuid NOT NULL REFERENCES ytc_jobs (id) ON DELETE CASCADE,
        idx integer NOT NULL,
        start_sample bigint NOT NULL,
        end_sample bigint NOT NULL,
        model text NOT NULL,
        plan text NOT NULL,
        samples bytea NOT NULL,
        state text NOT NULL DEFAULT 'posted',
        token uuid,
        lease_expires_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        worker text,
        result text,
        PRIMARY KEY (job_id, idx)
    );
    CREATE INDEX ytc_chunk_tasks_open ON ytc_chunk_tasks (model, job_id, idx)
        WHERE state <> 'done';
    "#;

#[async_trait]
impl ChunkQueue for PgJournal {
    async fn post(&self, task: &ChunkTask) -> Result<()> {
        let plan = serde_json::to_string(&task.plan)?;
        let samples = samples_to_bytes(&task.samples);
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO ytc_chunk_tasks (job_id, idx, start_sample, end_sample, model, plan, \
                 samples) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (job_id, idx) DO UPDATE SET start_sample = EXCLUDED.start_sample, \
                 end_sample = EXCLUDED.end_sample, model = EXCLUDED.model, plan = EXCLUDED.plan, \
                 samples = EXCLUDED.samples, state = 'posted', token = NULL, \
                 lease_expires_at = NULL, attempts = 0, worker = NULL, result = NULL \
                 WHERE ytc_chunk_tasks.start_sample <> EXCLUDED.start_sample \
                 OR ytc_chunk_tasks.end_sample <> EXCLUDED.end_sample \
                 OR ytc_chunk_tasks.model <> EXCLUDED.model",
                &[
                    &task.job_id.0,
                    &(task.index as i32),
                    &(task.start_sample as i64),
                    &(task.end_sample as i64),
                    &task.model,
                    &plan,
                    &samples,
                ],
            )
            .await
            .map_err(|e| pg_err("posting a chunk", e))?;
        Ok(())
    }

    async fn claim(
        &self,
        job: Option<JobId>,
        model: &str,
        worker: &str,
    ) -> Result<Option<ClaimedChunk>> {
        let token = Uuid::now_v7();
        let job = job.map(|j| j.0);
        let client = self.client().await?;
        let row = client
            .query_opt(
                "UPDATE ytc_chunk_tasks t SET state = 'claimed', token = $3, worker = $4, \
                 attempts = t.attempts + 1, lease_expires_at = now() + $5::text::interval \
                 FROM (SELECT c.job_id, c.idx FROM ytc_chunk_tasks c JOIN ytc_jobs j ON j.id = c.job_id \
                     WHERE c.model = $1 AND j.status = 'transcribing' \
                     AND (c.state = 'posted' OR (c.state = 'claimed' AND c.lease_expires_at < now())) \
                     AND (($2::uuid IS NULL AND c.attempts < $6) OR c.job_id = $2::uuid) \
                     ORDER BY c.job_id, c.idx LIMIT 1 FOR UPDATE OF c SKIP LOCKED) AS pick \
                 WHERE t.job_id = pick.job_id AND t.idx = pick.idx \
                 RETURNING t.job_id, t.idx, t.start_sample, t.end_sample, t.model, t.plan, t.samples",
                &[&model, &job, &token, &worker, &self.lease_interval(), &HELPER_ATTEMPTS],
            )
            .await
            .map_err(|e| pg_err("claiming a chunk", e))?;
        let Some(row) = row else { return Ok(None) };
        let plan: String = row.get(5);
        let plan: ChunkPlan = serde_json::from_str(&plan)?;
        let samples: Vec<u8> = row.get(6);
        let start: i64 = row.get(2);
        let end: i64 = row.get(3);
        let index: i32 = row.get(1);
        Ok(Some(ClaimedChunk {
            task: ChunkTask {
                job_id: JobId(row.get(0)),
                index: index as u32,
                start_sample: start as u64,
                end_sample: end as u64,
                model: row.get(4),
                plan,
                samples: samples_from_bytes(&samples),
            },
            token,
        }))
    }

    async fn renew(&self, claimed: &ClaimedChunk) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE ytc_chunk_tasks SET lease_expires_at = now() + $4::text::interval \
                 WHERE job_id = $1 AND idx = $2 AND token = $3 AND state = 'claimed'",
                &[
                    &claimed.task.job_id.0,
                    &(claimed.task.index as i32),
                    &claimed.token,
                    &self.lease_interval(),
                ],
            )
            .await
            .map_err(|e| pg_err("renewing a chunk's lease", e))?;
        Ok(n == 1)
    }

    async fn finish(&self, claimed: &ClaimedChunk, segments: &[Segment]) -> Result<bool> {
        let result = serde_json::to_string(segments)?;
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE ytc_chunk_tasks SET state = 'done', result = $4, samples = ''::bytea, \
                 lease_expires_at = NULL \
                 WHERE job_id = $1 AND idx = $2 AND token = $3 AND state = 'claimed'",
                &[
                    &claimed.task.job_id.0,
                    &(claimed.task.index as i32),
                    &claimed.token,
                    &result,
                ],
            )
            .await
            .map_err(|e| pg_err("finishing a chunk", e))?;
        Ok(n == 1)
    }

    async fn release(&self, claimed: &ClaimedChunk) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE ytc_chunk_tasks SET state = 'posted', token = NULL, lease_expires_at = NULL \
                 WHERE job_id = $1 AND idx = $2 AND token = $3 AND state = 'claimed'",
                &[&claimed.task.job_id.0, &(claimed.task.index as i32), &claimed.token],
            )
            .await
            .map_err(|e| pg_err("giving a chunk back", e))?;
        Ok(())
    }

    async fn finished(&self, job: JobId, among: &[u32]) -> Result<Vec<(u32, Vec<Segment>)>> {
        let among: Vec<i32> = among.iter().map(|&i| i as i32).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT idx, result FROM ytc_chunk_tasks WHERE job_id = $1 AND state = 'done' \
                 AND idx = ANY($2) ORDER BY idx",
                &[&job.0, &among],
            )
            .await
            .map_err(|e| pg_err("reading finished chunks", e))?;
        rows.into_iter()
            .map(|r| {
                let idx: i32 = r.get(0);
                let result: String = r.get(1);
                Ok((idx as u32, serde_json::from_str(&result)?))
            })
            .collect()
    }

    async fn clear(&self, job: JobId) -> Result<()> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM ytc_chunk_tasks WHERE job_id = $1", &[&job.0])
            .await
            .map_err(|e| pg_err("removing posted chunks", e))?;
        Ok(())
    }
}
