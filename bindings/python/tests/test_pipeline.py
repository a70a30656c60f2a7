"""Durable jobs: submit / get / list / wait / result / events / cancel / close, on real speech."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import pytest

import ytcaption
from conftest import JFK, JFK_TEXT, PipelineFactory


def test_submit_wait_list_result(make_pipeline: PipelineFactory, tmp_path: Path) -> None:
    p = make_pipeline(workers=1)
    assert p.model == "tiny.en" and p.home == tmp_path / "home" and not p.closed
    job = p.submit(JFK, language="en", priority="high", requested_by="pytest")
    assert job.status == "pending"
    assert (job.language, job.priority, job.requested_by) == ("en", "high", "pytest")
    assert job.source == str(JFK) and job.attempts == 0 and not job.is_terminal
    assert isinstance(job.created_at, datetime.datetime) and job.completed_at is None
    assert job.options["best_of"] == 5  # the core's default

    t = p.wait(job.id, timeout=300)
    assert ytcaption.word_error_rate(JFK_TEXT, t.text) <= 0.05
    assert t.job_id == job.id

    done = p.get(job.id)
    assert done.status == "completed" and done.is_terminal and done.attempts == 1
    assert done.completed_at is not None and done.error_code is None
    assert json.loads(done.to_json())["status"] == "completed" == done.to_dict()["status"]
    assert [j.id for j in p.list(status="completed")] == [job.id]
    assert [j.id for j in p.list()] == [job.id]
    assert p.list(status="pending") == []
    assert p.result(job) == t
    assert p.is_idle()

    # The core stored every format in the home's result store.
    results = tmp_path / "home" / "results" / job.id
    assert (results / "transcript.srt").read_text() == t.to_srt()
    assert (results / "transcript.vtt").read_text() == t.to_vtt()

    types = [e.type for e in p.events(job)]
    assert types[:4] == ["job_created", "download_started", "audio_ready", "transcription_started"]
    assert types[-1] == "transcription_completed"


def test_idempotency_key_and_queue_order(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    a = p.submit(JFK, idempotency_key="upload-42")
    b = p.submit(JFK, idempotency_key="upload-42")
    assert a.id == b.id and a == b
    low = p.submit(JFK, priority="low")
    high = p.submit(JFK, priority="HIGH")
    assert {j.id for j in p.list(status="pending")} == {a.id, low.id, high.id}
    assert len(p.list(limit=2)) == 2
    assert not p.is_idle()
    p.close()
    # A pipeline with a worker picks the high-priority job first.
    q = make_pipeline(workers=1)
    q.wait(high, timeout=300)
    first = q.events(high)[1]
    assert first.type == "download_started"
    for other in (a, low):
        started = [e for e in q.events(other) if e.type == "download_started"]
        assert not started or started[0].timestamp >= first.timestamp
    for j in (a, low):
        q.wait(j, timeout=300)


def test_cancel_pending_job(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    job = p.submit(JFK)
    cancelled = p.cancel(job)
    assert cancelled.status == "cancelled" and cancelled.is_terminal
    assert p.get(job.id).status == "cancelled"
    assert [j.id for j in p.list(status="cancelled")] == [job.id]
    with pytest.raises(ytcaption.JobCancelledError) as e:
        p.wait(job.id)
    assert e.value.code == "cancelled" and e.value.job_id == job.id
    with pytest.raises(ytcaption.InvalidStateError) as e2:
        p.cancel(job.id)
    assert e2.value.code == "illegal_transition"
    assert [e.type for e in p.events(job)] == ["job_created", "job_cancelled"]


def test_cancel_running_job(make_pipeline: PipelineFactory, long_clip: str) -> None:
    p = make_pipeline(workers=1)
    started: list[str] = []
    p.on_event(lambda ev: started.append(ev.type))
    job = p.submit(long_clip, language="en")
    deadline = time.monotonic() + 60
    while "transcription_started" not in started:
        assert time.monotonic() < deadline, started
        time.sleep(0.02)
    assert p.cancel(job).status == "cancelled"
    with pytest.raises(ytcaption.JobCancelledError):
        p.wait(job, timeout=30)
    assert p.get(job).status == "cancelled"


def test_failed_job_raises_job_failed(make_pipeline: PipelineFactory, bad_files: dict[str, str]) -> None:
    p = make_pipeline(workers=1)
    job = p.submit(bad_files["unsupported_format"])
    with pytest.raises(ytcaption.JobFailedError) as e:
        p.wait(job, timeout=60)
    assert e.value.code == "job_failed"
    assert e.value.job_error_code == "unsupported_format" and e.value.job_id == job.id
    failed = p.get(job)
    assert failed.status == "failed" and failed.error_code == "unsupported_format"
    assert failed.error_message and "format" in failed.error_message
    assert p.events(job)[-1].type == "transcription_failed"
    with pytest.raises(ytcaption.InvalidInputError):
        p.result(job)  # a failed job has no result


def test_close_releases_the_journal_and_jobs_survive(make_pipeline: PipelineFactory) -> None:
    with make_pipeline(workers=0) as p:
        job = p.submit(JFK, language="en")
    assert p.closed
    with pytest.raises(ytcaption.InvalidStateError) as e:
        p.get(job.id)
    assert e.value.code == "closed"
    p.close()  # idempotent
    # The next pipeline on the home runs the job the first one wrote.
    with make_pipeline(workers=1) as q:
        assert q.get(job.id).status in {"pending", "downloading", "transcribing", "completed"}
        t = q.wait(job, timeout=300)
        assert "country" in t.text.lower()


def test_one_shot_transcribe_on_a_pipeline(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    t = p.transcribe(JFK, language="en")
    assert ytcaption.word_error_rate(JFK_TEXT, t.text) <= 0.05
    assert p.list() == []  # no job
