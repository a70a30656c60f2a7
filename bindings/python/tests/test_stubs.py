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


def keywords(fn: ast.FunctionDef) -> list[str]:
    """Every parameter but ``self``/``cls`` and the input."""
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    return [a.arg for a in args if a.arg not in ("self", "cls", "input")]


# What each call takes by keyword, from the core's tables (at runtime these calls take
# **kwargs, which stubtest does not look into): the stub lists exactly these names.
ENGINE = ytcaption._ytcaption.setting_names("engine")
PIPELINE = ytcaption._ytcaption.setting_names("pipeline")
REQUEST = ytcaption._ytcaption.setting_names("request")
DECODE = ytcaption._ytcaption.decode_option_names()
TAKES = {
    "transcribe": ENGINE + ("language",) + DECODE,
    "Engine.__new__": ENGINE,
    "Engine.transcribe": ("language",) + DECODE,
    "Pipeline.__new__": ENGINE + PIPELINE,
    "Pipeline.transcribe": ("language",) + DECODE,
    "Pipeline.submit": REQUEST + DECODE,
}


def test_core_tables_are_exposed() -> None:
    assert ytcaption.DECODE_OPTIONS == DECODE
    assert "beam_size" in DECODE and "chunk_seconds" in ENGINE and "workers" in PIPELINE
    assert REQUEST[0] == "language" and "priority" in REQUEST
    assert not set(ENGINE) & set(PIPELINE)
    with pytest.raises(ytcaption.InvalidInputError):
        ytcaption._ytcaption.setting_names("decode")


@pytest.mark.parametrize("name", sorted(TAKES))
def test_stub_documents_exactly_the_core_names(name: str) -> None:
    fn = stub_functions()[name]
    names = keywords(fn)
    assert sorted(names) == sorted(TAKES[name]), name
    # The decoding options come last, in the core's order.
    if set(DECODE) <= set(names):
        assert names[-len(DECODE):] == list(DECODE)


def test_every_name_is_accepted(tmp_path: Path) -> None:
    # Keywords are read before the model is looked for: a ModelError means it was taken
    # (None keeps the default). Values are checked by the core (test_transcribe.py).
    for name in TAKES["transcribe"]:
        if name not in ("model", "language"):
            with pytest.raises(ytcaption.ModelError):
                ytcaption.transcribe("clip.wav", model=tmp_path / "none.bin", **{name: None})
    for name in TAKES["Engine.__new__"]:
        if name != "model":
            with pytest.raises(ytcaption.ModelError):
                ytcaption.Engine(tmp_path / "none.bin", **{name: None})


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
