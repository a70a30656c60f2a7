"""Shared fixtures: the real tiny.en model, real speech, real bad files (no mocks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import wave
from pathlib import Path
from typing import Callable, Iterator

import pytest

import ytcaption

REPO = Path(__file__).resolve().parents[3]
AUDIO = REPO / "fixtures" / "audio"
JFK = AUDIO / "en_jfk.wav"
MODEL = Path(
    os.environ.get("YTCAPTION_TEST_MODEL")
    or REPO / "target" / "test-data" / "models" / "ggml-tiny.en.bin"
)
# whisper.cpp threads spin while they wait: one thread per transcription keeps the tests fast
# even on a busy 2-core machine (two spinning threads there can be ten times slower).
THREADS = 1


def wait_until(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    """Polls `cond` (events arrive on their own thread) until it holds, or fails."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for events"
        time.sleep(0.01)


def reference_text(name: str) -> str:
    """The reference transcript of a fixture, from fixtures/audio/transcripts.tsv."""
    for line in (AUDIO / "transcripts.tsv").read_text().splitlines()[1:]:
        fields = line.split("\t")
        if fields[0] == name:
            return fields[2]
    raise KeyError(name)


JFK_TEXT = reference_text("en_jfk.wav")


def pytest_configure(config: pytest.Config) -> None:
    if not MODEL.is_file():
        raise pytest.UsageError(
            f"test model {MODEL} is missing: run scripts/test.sh (or set YTCAPTION_TEST_MODEL)"
        )


@pytest.fixture(scope="session")
def model() -> str:
    return str(MODEL)


@pytest.fixture(scope="session")
def jfk() -> str:
    return str(JFK)


@pytest.fixture(scope="session")
def engine() -> ytcaption.Engine:
    # Loopback test servers are allowlisted (by default only public addresses are reached).
    return ytcaption.Engine(MODEL, threads=THREADS, allow_network="127.0.0.1")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


def repeat_wav(src: Path, dst: Path, times: int) -> Path:
    with wave.open(str(src), "rb") as r:
        params = r.getparams()
        frames = r.readframes(r.getnframes())
    with wave.open(str(dst), "wb") as w:
        w.setparams(params)
        for _ in range(times):
            w.writeframes(frames)
    return dst


@pytest.fixture(scope="session")
def long_clip(media_dir: Path) -> str:
    """132 s of real speech (jfk.wav twelve times): long enough to interrupt (it takes a few
    seconds; jfk.wav alone now takes under half a second)."""
    return str(repeat_wav(JFK, media_dir / "jfk_x12.wav", 12))


@pytest.fixture(scope="session")
def bad_files(media_dir: Path) -> dict[str, str]:
    """Real bad inputs, by the error code the core gives them."""
    empty = media_dir / "empty.wav"
    empty.write_bytes(b"")
    text_mp3 = media_dir / "x.mp3"
    text_mp3.write_text("this is not an mp3 file, just some text\n" * 20)
    data = JFK.read_bytes()
    half = media_dir / "half.wav"
    half.write_bytes(data[: len(data) // 2])
    ac3 = media_dir / "x.mka"
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed to make the unsupported-codec fixture"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-i", str(JFK), "-c:a", "ac3", str(ac3)],
        check=True,
    )
    not_a_model = media_dir / "not-a-model.bin"
    not_a_model.write_text("definitely not ggml\n")
    return {
        "input_not_found": str(media_dir / "missing.wav"),
        "empty_input": str(empty),
        "unsupported_format": str(text_mp3),
        "decode_failed": str(half),
        "unsupported_codec": str(ac3),
        "model_not_found": str(media_dir / "missing-model.bin"),
        "model_invalid": str(not_a_model),
    }


PipelineFactory = Callable[..., ytcaption.Pipeline]


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Iterator[PipelineFactory]:
    """Opens pipelines on a fresh home (tmp_path/"home" unless told); closes them all."""
    opened: list[ytcaption.Pipeline] = []

    def make(**kwargs: object) -> ytcaption.Pipeline:
        kwargs.setdefault("home", tmp_path / "home")
        kwargs.setdefault("model", str(MODEL))
        kwargs.setdefault("threads", THREADS)
        p = ytcaption.Pipeline(**kwargs)  # type: ignore[arg-type]
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()
