//! Chunk fan-out: a long job's chunks as work items of their own, so that idle workers of
//! other processes (on other machines) transcribe chunks of a job one worker runs.
//!
//! The worker that holds the job decodes and cuts the media as always, and
//! [`post`](ChunkQueue::post)s each chunk with speech — its PCM and what a transcription of it
//! needs — to the journal's database. Any worker with nothing else to do
//! [`claim`](ChunkQueue::claim)s a posted chunk under a lease, transcribes it with the job's
//! options and [`finish`](ChunkQueue::finish)es it with the segments. The job's worker claims
//! chunks of its own job too, collects the [`finished`](ChunkQueue::finished) ones, records
//! their checkpoints (under its job lease, as for chunks it transcribed itself) and merges.
//!
//! The PCM goes through the database rather than the result store: the database is the one
//! service every worker of a shared journal already reaches, a chunk is small (30 s of
//! 16 kHz `f32` is 1.9 MB) and lives only until its job ends, and posting, claiming and
//! finishing are then transactions of one system (no orphaned objects when a worker dies
//! between two of them).
//!
//! A worker that dies holding a chunk loses its lease; the chunk is claimed again. A worker
//! whose lease was lost cannot finish the chunk (its result is dropped). Only a journal shared
//! by many processes has a queue ([`Journal::chunk_queue`](super::Journal::chunk_queue));
//! with sled, chunks are transcribed in-process as always.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::job::JobId;
use crate::transcript::Segment;

/// A chunk posted for any worker: where it lies in its job's audio, how to transcribe it, and
/// its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkTask {
    /// The job it belongs to.
    pub job_id: JobId,
    /// Its place in the job's chunk plan, from 0.
    pub index: u32,
    /// Its first sample (absolute, 16 kHz).
    pub start_sample: u64,
    /// One past its last sample.
    pub end_sample: u64,
    /// The model that must transcribe it (its name): workers with another model leave it.
    pub model: String,
    /// How to transcribe it: its language and its cut and speech marks.
    pub plan: ChunkPlan,
    /// The samples `[start_sample, end_sample)`, 16 kHz mono.
    pub samples: Vec<f32>,
}

/// What a worker needs, besides the samples and the job's options, to transcribe a posted
/// chunk as the job's own worker would.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkPlan {
    /// The language code to transcribe in (given or detected on the job's first speech).
    pub language: String,
    /// Its probability, when it was detected.
    pub language_probability: Option<f32>,
    /// The cut point when the chunk begins inside a forced cut's overlap (absolute sample).
    pub forced_cut_before: Option<u64>,
    /// The cut point when the chunk ends inside a forced cut's overlap (absolute sample).
    pub forced_cut_after: Option<u64>,
    /// Where the detector found speech: `[start, end)` absolute sample ranges, in order.
    pub speech: Vec<(u64, u64)>,
}

/// A chunk a worker claimed: the task and the lease's token that fences its writes.
#[derive(Debug, Clone)]
pub struct ClaimedChunk {
    /// The chunk.
    pub task: ChunkTask,
    /// The claim's token: [`finish`](ChunkQueue::finish) and [`renew`](ChunkQueue::renew)
    /// hold only while it is the chunk's current one.
    pub token: Uuid,
}

/// A queue of chunks shared by the workers of a journal (see the module docs).
///
/// The contract: a chunk is posted once per job and index (posting it again with the same
/// bounds and model changes nothing, with other bounds starts it over); a claim is exclusive
/// while its lease lasts and passes to another claimer once it expired; only the current
/// claim finishes a chunk; a finished chunk is never claimed again; chunks of a job that is
/// not transcribing are not handed out to other jobs' workers.
#[async_trait]
pub trait ChunkQueue: Send + Sync {
    /// Posts `task` for any worker (see the trait docs for a chunk posted again).
    async fn post(&self, task: &ChunkTask) -> Result<()>;

    /// Claims a posted chunk under a lease (or one whose claim expired): of job `job` when
    /// given (the job's own worker, which takes its chunks whatever their attempts), else of
    /// any transcribing job whose chunks need `model` (a helping worker, which leaves a chunk
    /// claimed three times already to the job's worker). `None`: nothing to claim.
    /// `worker` names the claimer in logs and the database.
    async fn claim(
        &self,
        job: Option<JobId>,
        model: &str,
        worker: &str,
    ) -> Result<Option<ClaimedChunk>>;

    /// Extends a claim's lease; `false` when the claim was lost (the chunk was claimed again,
    /// finished by another, or its job ended).
    async fn renew(&self, claimed: &ClaimedChunk) -> Result<bool>;

    /// Stores the segments (absolute times) of a claimed chunk and drops its samples; `false`
    /// when the claim was lost, and then nothing is written.
    async fn finish(&self, claimed: &ClaimedChunk, segments: &[Segment]) -> Result<bool>;

    /// Gives a claim back (its transcription failed here): the chunk is posted again.
    async fn release(&self, claimed: &ClaimedChunk) -> Result<()>;

    /// The finished chunks of `job` among the indexes `among`: each index with its segments.
    async fn finished(&self, job: JobId, among: &[u32]) -> Result<Vec<(u32, Vec<Segment>)>>;

    /// Removes every chunk of `job` (its run ended).
    async fn clear(&self, job: JobId) -> Result<()>;
}

/// This process's name in a shared journal's records (who claimed a chunk): `host:pid`.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// The samples of a chunk as stored: `f32` little-endian.
pub fn samples_to_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Samples stored by [`samples_to_bytes`]; a trailing partial sample is dropped.
pub fn samples_from_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_round_trip_exactly() {
        let s = vec![0.0, -1.0, 1.0, 0.123_456_79, f32::MIN_POSITIVE, -0.5e-7];
        let b = samples_to_bytes(&s);
        assert_eq!(b.len(), 4 * s.len());
        assert_eq!(samples_from_bytes(&b), s);
        assert_eq!(samples_from_bytes(&b[..b.len() - 1]), s[..s.len() - 1]);
    }
}
