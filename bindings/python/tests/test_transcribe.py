"""One-shot transcription: ytcaption.transcribe and Engine, on real speech."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

import ytcaption
from conftest import JFK, JFK_TEXT, MODEL, REPO, THREADS, repeat_wav, wait_until


def cli_binary() -> Path:
    explicit = os.environ.get("YTCAPTION_BIN")
    if explicit:
        path = Path(explicit)
        return path if path.is_absolute() else REPO / path
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    return (target if target.is_absolute() else REPO / target) / "release" / "ytcaption"


def test_transcribe_matches_the_reference_and_the_cli() -> None:
    t = ytcaption.transcribe(JFK, model=MODEL, language="en", threads=THREADS)
    wer = ytcaption.word_error_rate(JFK_TEXT, t.text)

    cli = cli_binary()
    assert cli.is_file(), f"the CLI {cli} is not built (cargo build --release -p ytcaption-cli)"
    out = subprocess.run(
        [str(cli), "transcribe", str(JFK), "-m", str(MODEL), "-l", "en", "-t", str(THREADS),
         "--format", "txt"],
        check=True, capture_output=True, text=True,
    ).stdout
    cli_wer = ytcaption.word_error_rate(JFK_TEXT, out)

    assert abs(wer - cli_wer) <= 0.02, (t.text, out)
    assert wer <= 0.05, t.text
    assert t.language == "en"
    assert t.model == "tiny.en"
    assert t.duration == pytest.approx(11.0, abs=0.05)
    assert t.processing_time > 0
    assert isinstance(t.created_at, datetime.datetime) and t.created_at.tzinfo is not None
    segs = t.segments
    assert len(segs) >= 1
    assert segs[0].start == pytest.approx(0.0, abs=1.0)
    for a, b in zip(segs, segs[1:]):
        assert a.end <= b.start + 1e-6
    for i, s in enumerate(segs):
        assert s.id == i and 0 <= s.start <= s.end <= t.duration and s.text
    assert t.text == " ".join(s.text for s in segs)


def test_formats_come_from_the_core(engine: ytcaption.Engine) -> None:
    t = engine.transcribe(JFK, language="en")
    srt = t.to_srt()
    assert re.match(r"1\n00:00:00,\d{3} --> ", srt), srt
    assert t.segments[0].text in srt
    vtt = t.to_vtt()
    assert vtt.startswith("WEBVTT\n")
    assert t.render("webvtt") == vtt and t.render("SRT") == srt
    assert t.to_txt().splitlines() == [s.text for s in t.segments]
    doc = json.loads(t.to_json())
    assert doc["text"] == t.text and doc["language"] == "en"
    assert [s["text"] for s in doc["segments"]] == [s.text for s in t.segments]
    assert t.to_dict() == doc
    again = ytcaption.Transcript.from_json(t.to_json())
    # (JSON floats may come back one ulp off: compare the floats approximately.)
    assert (again.id, again.job_id, again.text, again.model) == (t.id, t.job_id, t.text, t.model)
    assert again.created_at == t.created_at and again.duration == pytest.approx(t.duration)
    assert [(s.id, s.text) for s in again.segments] == [(s.id, s.text) for s in t.segments]
    assert [s.end for s in again.segments] == pytest.approx([s.end for s in t.segments])
    with pytest.raises(ytcaption.InvalidInputError) as e:
        t.render("docx")
    assert e.value.code == "invalid_input"
    with pytest.raises(ytcaption.InvalidInputError):
        ytcaption.Transcript.from_json("{}")


def test_engine_accepts_paths_and_options_and_reports_events(engine: ytcaption.Engine) -> None:
    seen: list[ytcaption.Event] = []
    sub = engine.on_event(seen.append)
    t = engine.transcribe(Path(JFK), language="english", beam_size=2, initial_prompt="Americans")
    assert "country" in t.text.lower()
    mine = lambda: [e for e in seen if e.job_id == t.job_id]  # noqa: E731
    wait_until(lambda: len(mine()) >= 3)
    sub.cancel()
    assert not sub.active
    types = [e.type for e in mine()]
    assert types[:2] == ["audio_ready", "transcription_started"], types
    assert "transcription_progress" in types
    assert set(types[2:]) <= {"transcription_progress", "chunk_transcribed"}, types
    percents = [e.data["percent"] for e in mine()[2:] if e.type == "transcription_progress"]
    assert percents == sorted(percents) and 0 <= percents[0] <= percents[-1] <= 100
    assert engine.model == "tiny.en"
    with pytest.raises(TypeError, match="beam_sise"):
        engine.transcribe(JFK, beam_sise=2)  # type: ignore[call-arg]


def test_model_is_resolved_by_the_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "ggml-tiny.en.bin").symlink_to(MODEL)
    # An installed name in the home...
    t = ytcaption.transcribe(str(JFK), model="tiny.en", home=home, threads=THREADS)
    assert t.model == "tiny.en" and "country" in t.text.lower()
    # ...the home's default model...
    assert ytcaption.Engine(home=home).model == "tiny.en"
    # ...and $YTCAPTION_MODEL.
    monkeypatch.setenv("YTCAPTION_MODEL", str(MODEL))
    assert ytcaption.Engine(home=tmp_path / "empty-home").model == "tiny.en"
    monkeypatch.delenv("YTCAPTION_MODEL")
    with pytest.raises(ytcaption.ModelError) as e:
        ytcaption.Engine(home=tmp_path / "empty-home")
    assert e.value.code == "model_not_found"


def test_module_constants() -> None:
    # Both come from the workspace version in /Cargo.toml (compiled in; maturin's metadata), which
    # scripts/test-python.sh checks the installed package against.
    assert ytcaption.__version__ == importlib.metadata.version("ytcaption")
    assert ytcaption.ERROR_CODES[0] == "invalid_input" and "job_failed" in ytcaption.ERROR_CODES
    assert ("en", "english") in ytcaption.LANGUAGES
    assert ytcaption.normalize("Ask not — YOUR country!") == "ask not your country"
    assert ytcaption.word_error_rate("a b c d", "a x c") == 0.5


def test_word_timestamps_and_chunks() -> None:
    # jfk.wav (11 s) in chunks of about 5 s, two at a time, with word timings.
    engine = ytcaption.Engine(MODEL, threads=1, chunk_seconds=5.0, parallel_chunks=2)
    seen: list[ytcaption.Event] = []
    sub = engine.on_event(seen.append)
    t = engine.transcribe(JFK, language="en", word_timestamps=True)

    def chunk_events() -> list[dict[str, Any]]:
        return sorted(
            (e.data for e in seen if e.type == "chunk_transcribed"), key=lambda c: c["start_seconds"]
        )

    def covered() -> bool:
        # Every chunk's event arrived: together they cover the clip, without gaps.
        end = 0.0
        for c in chunk_events():
            if c["start_seconds"] > end + 0.01:
                return False
            end = max(end, c["end_seconds"])
        return end >= t.duration - 0.05

    wait_until(covered)
    sub.cancel()
    assert ytcaption.word_error_rate(JFK_TEXT, t.text) <= 0.1, t.text
    chunks = chunk_events()
    assert len(chunks) >= 2
    assert sorted(c["index"] for c in chunks) == list(range(len(chunks)))
    for c in chunks:
        assert 0 <= c["start_seconds"] < c["end_seconds"] <= t.duration + 0.05
    words = [w for s in t.segments for w in s.words]
    assert len(words) >= 15
    for s in t.segments:
        for w in s.words:
            assert isinstance(w, ytcaption.Word)
            assert s.start - 0.5 <= w.start <= w.end <= s.end + 0.5
            assert 0.0 <= w.probability <= 1.0 and w.text
    assert "country" in "".join(w.text for w in words).lower()
    # Without the option, no words.
    assert all(not s.words for s in engine.transcribe(JFK, language="en").segments)


def test_bad_chunking_options_are_invalid_input() -> None:
    with pytest.raises(ytcaption.InvalidInputError) as e:
        ytcaption.Engine(MODEL, parallel_chunks=65)
    assert e.value.code == "invalid_input"
    with pytest.raises(ytcaption.InvalidInputError):
        ytcaption.Engine(MODEL, chunk_seconds=1.0)


def test_chunk_seconds_0_is_one_chunk(tmp_path: Path) -> None:
    # 0 means "no chunking" (and parallel_chunks=0 "one per core"), as everywhere in ytcaption:
    # 44 s of speech, which the default 16 s target cuts in two or more, is one chunk.
    clip = repeat_wav(JFK, tmp_path / "jfk_x4.wav", 4)
    engine = ytcaption.Engine(MODEL, threads=THREADS, chunk_seconds=0, parallel_chunks=0)
    seen: list[ytcaption.Event] = []
    sub = engine.on_event(seen.append)
    t = engine.transcribe(clip, language="en")
    wait_until(lambda: any(e.type == "chunk_transcribed" for e in seen))
    sub.cancel()
    assert t.duration > 40 and "country" in t.text.lower()
    chunks = [e.data for e in seen if e.type == "chunk_transcribed"]
    assert len(chunks) == 1, chunks
    assert chunks[0]["start_seconds"] == 0 and chunks[0]["end_seconds"] >= t.duration - 0.05


def test_settings_are_the_core_ones(tmp_path: Path) -> None:
    # A bad value is the core's InvalidInputError, naming the setting, before a model loads.
    cases: list[tuple[dict[str, Any], str]] = [
        ({"beam_size": 0}, "beam_size"),
        ({"best_of": "five"}, "best_of"),
        ({"temperature": 2.0}, "temperature"),
        ({"chunk_seconds": float("inf")}, "chunk_seconds"),
        ({"chunk_seconds": 1}, "chunk_seconds"),
        ({"threads": 1.5}, "threads"),
        ({"threads": True}, "threads"),
        ({"max_size_mb": 0}, "max_size_mb"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ytcaption.InvalidInputError) as e:
            ytcaption.transcribe(JFK, model=tmp_path / "none.bin", **kwargs)
        assert e.value.code == "invalid_input"
        assert field in str(e.value), (kwargs, str(e.value))
    # Pipeline-only settings are not engine settings; aliases are not keywords.
    for bad in ({"workers": 1}, {"store": "x"}, {"prompt": "x"}, {"beam_size": 2}):
        with pytest.raises(TypeError, match=next(iter(bad))):
            ytcaption.Engine(MODEL, **bad)
    with pytest.raises(TypeError, match="priority"):
        ytcaption.transcribe(JFK, model=MODEL, priority="high")
    # os.PathLike values go through os.fspath; None keeps the default.
    t = ytcaption.transcribe(
        JFK, model=MODEL, language="en", threads=THREADS, home=tmp_path / "home",
        vad_model=None, chunk_seconds=None, beam_size=None,
    )
    assert "country" in t.text.lower()
