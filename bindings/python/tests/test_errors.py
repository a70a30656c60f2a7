"""Every exception class, raised by a real bad input, with the core's code."""

from __future__ import annotations

import builtins
import errno
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

import ytcaption
from conftest import JFK, MODEL, THREADS, PipelineFactory


def raises(cls: type[ytcaption.Error], code: str) -> Any:
    return pytest.raises(cls, match=rf"\[{code}\]$")  # str(err) ends with "[code]"


@pytest.mark.parametrize(
    ("bad", "cls"),
    [
        ("input_not_found", ytcaption.InvalidInputError),
        ("empty_input", ytcaption.InvalidInputError),
        ("unsupported_format", ytcaption.DecodeError),
        ("decode_failed", ytcaption.DecodeError),
        ("unsupported_codec", ytcaption.DecodeError),
    ],
)
def test_bad_media(
    engine: ytcaption.Engine, bad_files: dict[str, str], bad: str, cls: type[ytcaption.Error]
) -> None:
    with raises(cls, bad) as e:
        engine.transcribe(bad_files[bad])
    assert e.value.code == bad and e.value.message in str(e.value)
    assert isinstance(e.value, ytcaption.Error)


def test_bad_arguments(engine: ytcaption.Engine) -> None:
    with raises(ytcaption.InvalidInputError, "invalid_input") as e:
        engine.transcribe(JFK, language="klingon")
    assert "klingon" in e.value.message
    assert isinstance(e.value, ValueError)
    with raises(ytcaption.InvalidInputError, "invalid_input") as e:
        engine.transcribe(JFK, language="es")  # tiny.en is English-only
    assert "English-only" in e.value.message
    with raises(ytcaption.InvalidInputError, "invalid_input"):
        engine.transcribe(JFK, temperature=3.0)
    with raises(ytcaption.DownloadError, "not_media"):
        engine.transcribe(html_page_url())


def html_page_url() -> str:
    """A URL on a loopback server that answers with a web page, not media."""
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = b"<!doctype html><html><body>not a video</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/talk"


def test_bad_models(bad_files: dict[str, str]) -> None:
    with raises(ytcaption.ModelError, "model_not_found"):
        ytcaption.transcribe(JFK, model=bad_files["model_not_found"])
    with raises(ytcaption.ModelError, "model_invalid"):
        ytcaption.transcribe(JFK, model=bad_files["model_invalid"], threads=THREADS)


def test_job_errors(make_pipeline: PipelineFactory, bad_files: dict[str, str], tmp_path: Path) -> None:
    p = make_pipeline(workers=0)
    with raises(ytcaption.JobNotFoundError, "job_not_found") as e:
        p.get("01890000-0000-7000-8000-000000000000")
    assert e.value.job_id == "01890000-0000-7000-8000-000000000000"
    with raises(ytcaption.InvalidInputError, "invalid_input"):
        p.get("not-a-job-id")
    with raises(ytcaption.InvalidInputError, "invalid_input"):
        p.submit(JFK, priority="urgent")
    with raises(ytcaption.InvalidInputError, "webhook_refused"):
        p.submit(JFK, webhook_url="ftp://example.com/hook")
    with raises(ytcaption.InvalidInputError, "webhook_refused"):  # not a public address
        p.submit(JFK, webhook_url="http://169.254.169.254/hook")
    with raises(ytcaption.InvalidInputError, "invalid_input"):
        p.list(status="done")
    with raises(ytcaption.InvalidInputError, "input_not_found"):
        p.submit(bad_files["input_not_found"])
    with raises(ytcaption.InvalidInputError, "invalid_input"):
        p.wait(p.submit(JFK), timeout=-1)

    job = p.submit(JFK)
    with raises(ytcaption.TimeoutError, "timeout") as te:
        p.wait(job, timeout=0.05)
    assert isinstance(te.value, builtins.TimeoutError)
    p.cancel(job)
    with raises(ytcaption.JobCancelledError, "cancelled"):
        p.wait(job)
    with raises(ytcaption.InvalidStateError, "illegal_transition"):
        p.cancel(job)

    with raises(ytcaption.JournalError, "journal_locked") as je:
        ytcaption.Pipeline(home=p.home, model=MODEL, workers=0)
    assert str(os.getpid()) in je.value.message
    p.close()
    with raises(ytcaption.InvalidStateError, "closed"):
        p.submit(JFK)

    with make_pipeline(workers=1) as q:
        failed = q.submit(bad_files["decode_failed"])
        with raises(ytcaption.JobFailedError, "job_failed") as fe:
            q.wait(failed, timeout=60)
        assert fe.value.job_error_code == "decode_failed" and fe.value.job_id == failed.id

        done = q.submit(JFK, language="en")
        q.wait(done, timeout=300)
        (q.home / "results" / done.id / "transcript.json").unlink()
        with raises(ytcaption.StoreError, "store_error"):
            q.result(done)


def test_io_error_is_an_os_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with raises(ytcaption.IoError, "io_error") as e:
        ytcaption.Pipeline(home=not_a_dir / "home", model=MODEL, workers=0)
    assert isinstance(e.value, OSError)
    assert e.value.errno == errno.ENOTDIR


def test_every_error_family_has_its_class() -> None:
    mapping = ytcaption._ytcaption.error_classes()
    assert len(mapping) == 14 and len(set(mapping.values())) == 14
    for family, name in mapping.items():
        cls = getattr(ytcaption, name)
        assert issubclass(cls, ytcaption.Error), family
        # Exported, except the one that would shadow a builtin on `import *`.
        assert (name in ytcaption.__all__) == (name != "TimeoutError")
    assert issubclass(ytcaption.TimeoutError, builtins.TimeoutError)
    assert issubclass(ytcaption.IoError, OSError)
    assert issubclass(ytcaption.InvalidInputError, ValueError)


def test_exceptions_pickle_with_their_code() -> None:
    err = ytcaption.JobFailedError("job x failed", "job_failed", job_id="x", job_error_code="no_audio")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ytcaption.JobFailedError
    assert (back.code, back.message, back.job_id, back.job_error_code) == (
        "job_failed", "job x failed", "x", "no_audio")
    io = pickle.loads(pickle.dumps(ytcaption.IoError("disk", errno=errno.ENOSPC)))
    assert io.errno == errno.ENOSPC and io.code == "io_error" and str(io) == "disk [io_error]"


def _fake_yt_dlp(tmp_path: Path, info: dict[str, Any]) -> Path:
    """A `yt-dlp` that prints `info` as its metadata (what `--dump-single-json` prints)."""
    import json
    import stat

    (tmp_path / "info.json").write_text(json.dumps(info))
    script = tmp_path / "yt-dlp"
    script.write_text('#!/bin/sh\ncat "$(dirname "$0")/info.json"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_probe_reads_video_info_and_refuses_playlists(tmp_path: Path) -> None:
    fake = _fake_yt_dlp(
        tmp_path,
        {
            "id": "dQw4w9WgXcQ",
            "title": "Inaugural Address",
            "duration": 4000.0,
            "uploader": "JFK Library",
            "upload_date": "19610120",
            "live_status": "not_live",
            "subtitles": {"en": [{"ext": "vtt", "url": "https://www.youtube.com/api/timedtext"}]},
            "automatic_captions": {},
        },
    )
    info = ytcaption.probe("https://youtu.be/dQw4w9WgXcQ", yt_dlp=str(fake), home=str(tmp_path))
    assert info["title"] == "Inaugural Address"
    assert info["upload_date"] == "1961-01-20"
    assert info["subtitle_languages"] == ["en"]
    assert info["estimated_transcription_seconds"] > 0
    assert any("over 1 hour" in w for w in info["warnings"])
    with pytest.raises(ytcaption.InvalidInputError, match="playlist"):
        ytcaption.probe("https://www.youtube.com/playlist?list=PL1", yt_dlp=str(fake))
    with pytest.raises(TypeError):
        ytcaption.probe("https://youtu.be/dQw4w9WgXcQ", beam_size=5)
