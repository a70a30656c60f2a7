"""The .pyi stubs match the runtime (mypy.stubtest plus what stubtest cannot see)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ytcaption

STUB = Path(ytcaption.__file__).with_name("_ytcaption.pyi")


def test_stubtest(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ytcaption"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def stub_functions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(STUB.read_text())
    out: dict[str, ast.FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out[f"{node.name}.{item.name}"] = item
    return out


@pytest.mark.parametrize(
    "name", ["transcribe", "Engine.transcribe", "Pipeline.transcribe", "Pipeline.submit"]
)
def test_decode_options_in_stubs_are_the_runtime_ones(name: str) -> None:
    # At runtime these take the options as **kwargs, which stubtest does not look into.
    fn = stub_functions()[name]
    kwonly = [a.arg for a in fn.args.kwonlyargs]
    assert kwonly[-len(ytcaption.DECODE_OPTIONS):] == list(ytcaption.DECODE_OPTIONS)


def test_every_decode_option_is_accepted(tmp_path: Path) -> None:
    values = {
        "beam_size": 2, "best_of": 2, "temperature": 0.0, "temperature_increment": 0.0,
        "initial_prompt": "x", "translate": False, "no_speech_threshold": 0.5,
        "entropy_threshold": 2.0, "logprob_threshold": -1.0, "word_timestamps": True,
        "condition_on_previous_text": True,
    }
    assert set(values) == set(ytcaption.DECODE_OPTIONS)
    for name, value in values.items():
        # Options are read before the model is looked for: a ModelError means it was taken.
        with pytest.raises(ytcaption.ModelError):
            ytcaption.transcribe("clip.wav", model=tmp_path / "none.bin", **{name: value})  # type: ignore[arg-type]


def test_stubs_ship_with_the_package() -> None:
    spec = importlib.util.find_spec("ytcaption._ytcaption")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).parent == STUB.parent
    assert (STUB.parent / "py.typed").is_file()


def test_user_code_type_checks(tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(textwrap.dedent(
        """
        import asyncio
        import ytcaption

        def main() -> None:
            t = ytcaption.transcribe("clip.wav", model="ggml-tiny.en.bin", language="en")
            start: float = t.segments[0].start
            words: list[ytcaption.Word] = ytcaption.transcribe(
                "clip.wav", word_timestamps=True, parallel_chunks=2, chunk_seconds=30.0
            ).segments[0].words
            srt: str = t.to_srt()
            with ytcaption.Pipeline(home="./yc", model="ggml-tiny.en.bin", workers=2) as p:
                job = p.submit("clip.wav", language="en", priority="high", beam_size=5)
                status: str = p.get(job.id).status
                jobs: list[ytcaption.Job] = p.list(status="completed")
                sub = p.on_event(lambda ev: print(ev.type, ev.job_id, ev.data))
                t2: ytcaption.Transcript = p.wait(job, timeout=600)
                t3: ytcaption.Transcript = asyncio.run(p.wait_async(job.id))
                sub.cancel()
            try:
                ytcaption.transcribe("missing.wav")
            except ytcaption.InvalidInputError as e:
                code: str = e.code
            except ytcaption.TimeoutError as e:
                errno = e.errno
        """
    ))
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         str(program)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_package_type_checks_strictly(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "-p", "ytcaption"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr
