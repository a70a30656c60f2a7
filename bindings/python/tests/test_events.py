"""Live events: order, payloads, failing callbacks, cancellation, re-entrant callbacks."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

import ytcaption
from conftest import JFK, PipelineFactory, wait_until


def test_events_arrive_in_order_with_their_envelope(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=1)
    seen: list[ytcaption.Event] = []
    threads: set[str] = set()

    def on_event(ev: ytcaption.Event) -> None:
        threads.add(threading.current_thread().name)
        seen.append(ev)

    sub = p.on_event(on_event)
    assert sub.active
    job = p.submit(JFK, language="en", priority="high")
    p.wait(job, timeout=300)
    wait_until(lambda: any(e.type == "transcription_completed" for e in seen))

    mine = [e for e in seen if e.job_id == job.id]
    journal = p.events(job)
    # The live stream and the journal agree, event for event, in order.
    assert [e.event_id for e in mine] == [e.event_id for e in journal]
    assert mine == journal
    types = [e.type for e in mine]
    assert types[:4] == ["job_created", "download_started", "audio_ready", "transcription_started"]
    assert types[-1] == "transcription_completed"
    assert set(types[4:-1]) <= {"transcription_progress", "chunk_transcribed"}
    assert "chunk_transcribed" in types
    assert mine[3].data["resumed_chunks"] == 0
    # Each event is caused by the one before it, and time moves forward.
    assert mine[0].causation_id is None
    for prev, ev in zip(mine, mine[1:]):
        assert ev.causation_id == prev.event_id
        assert ev.timestamp >= prev.timestamp
        assert ev.correlation_id == job.id and ev.version == 1
    created = mine[0]
    assert created.data["priority"] == "high" and created.data["language"] == "en"
    assert created.data["source"] == {"kind": "file", "path": JFK.as_posix()}
    done = mine[-1]
    assert done.is_terminal and done.data["segments"] >= 1
    assert set(done.data["result_urls"]) == {"srt", "vtt", "json", "txt"}
    whole = json.loads(done.to_json())
    assert whole == done.to_dict()
    assert whole["event_type"] == "transcription_completed" and whole["data"] == done.data
    assert threading.current_thread().name not in threads  # delivered on its own thread


def test_failing_callback_is_logged_and_harms_nothing(
    make_pipeline: PipelineFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ytcaption")
    p = make_pipeline(workers=1)
    calls: list[str] = []

    def broken(ev: ytcaption.Event) -> None:
        calls.append(ev.type)
        raise RuntimeError(f"callback bug on {ev.type}")

    p.on_event(broken)
    good: list[str] = []
    p.on_event(lambda ev: good.append(ev.type))
    for _ in range(2):  # the worker and the subscription survive the first job
        job = p.submit(JFK, language="en")
        assert "country" in p.wait(job, timeout=300).text.lower()
    wait_until(lambda: calls.count("transcription_completed") == 2)

    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "ytcaption"]

    # A call's failure is logged just after the call returns.
    wait_until(lambda: len(logged()) == len(calls))
    wait_until(lambda: good == calls)
    failures = logged()
    record = failures[0]
    assert record.levelno == logging.ERROR and "job_created" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert record.exc_text is None or "callback bug" in record.exc_text


def test_cancelled_subscription_receives_nothing(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    got: list[str] = []
    with p.on_event(lambda ev: got.append(ev.type)) as sub:
        first = p.submit(JFK)
        wait_until(lambda: got == ["job_created"])
    assert not sub.active
    p.submit(JFK)
    p.cancel(first)
    time.sleep(0.3)
    assert got == ["job_created"]


def test_callback_may_call_the_pipeline(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    statuses: list[str] = []
    p.on_event(lambda ev: statuses.append(p.get(ev.job_id).status))
    job = p.submit(JFK)
    p.cancel(job)
    wait_until(lambda: len(statuses) == 2)
    assert statuses[-1] == "cancelled"


def test_close_stops_subscriptions(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    sub = p.on_event(lambda ev: None)
    p.close()
    wait_until(lambda: not sub.active, timeout=5)
