"""The GIL, os.fork() and Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import ytcaption
from conftest import JFK, MODEL, PipelineFactory


def test_gil_is_released_while_transcribing(engine: ytcaption.Engine, long_clip: str) -> None:
    ticks: list[float] = []
    stop = threading.Event()

    def python_work() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    worker = threading.Thread(target=python_work)
    worker.start()
    try:
        start = time.monotonic()
        t = engine.transcribe(long_clip, language="en")
        end = time.monotonic()
    finally:
        stop.set()
        worker.join()
    assert "country" in t.text.lower()
    during = [x for x in ticks if start <= x <= end]
    assert end - start > 0.5
    # Had the GIL been held, the thread could not have run at all during the call.
    assert len(during) >= 0.1 * (end - start) / 0.005, (len(during), end - start)
    assert max(b - a for a, b in zip(during, during[1:])) < max(1.0, (end - start) / 3)


def test_gil_is_released_while_waiting(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)
    job = p.submit(JFK)
    counter = [0]

    def spin() -> None:
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    with pytest.raises(ytcaption.TimeoutError):
        p.wait(job, timeout=0.6)
    t.join()
    assert counter[0] > 10_000


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_works_in_a_forked_child(engine: ytcaption.Engine, make_pipeline: PipelineFactory) -> None:
    # The parent has used the runtime (and holds a pipeline) before forking.
    assert "country" in engine.transcribe(JFK, language="en").text.lower()
    p = make_pipeline(workers=0)
    job = p.submit(JFK)
    pid = os.fork()
    if pid == 0:  # the child: exit codes tell the parent what went wrong
        code = 0
        try:
            t = ytcaption.transcribe(JFK, model=MODEL, language="en", threads=1)
            if "country" not in t.text.lower():
                code = 3
            # An engine made before the fork works too (none of its calls was in flight).
            if "country" not in engine.transcribe(JFK, language="en").text.lower():
                code = code or 7
            try:
                p.get(job.id)  # the parent's pipeline is not the child's
                code = code or 4
            except ytcaption.InvalidStateError as e:
                if e.code != "closed":
                    code = code or 5
        except BaseException:
            code = 6
        os._exit(code)
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    # The parent's pipeline and runtime still work.
    assert p.get(job.id).status == "pending"
    assert "country" in engine.transcribe(JFK, language="en").text.lower()


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import signal, sys, time, ytcaption
    # Ctrl-C raises KeyboardInterrupt even where the test runner was started with SIGINT
    # ignored (a background job of a non-interactive shell), which Python would inherit.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    home, model, clip = sys.argv[1:4]
    p = ytcaption.Pipeline(home=home, model=model, workers=1, threads=1)
    job = p.submit(clip, language="en")
    print("waiting", flush=True)
    try:
        p.wait(job, timeout=600)
        print("finished before the signal", flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    # The job goes on in the worker; closing puts it back in the queue.
    status = p.get(job).status
    p.close()
    print("status", status, flush=True)
    with ytcaption.Pipeline(home=home, model=model, workers=0) as q:
        types = [e.type for e in q.events(job)]
        print("after", q.get(job).status, ",".join(types), flush=True)
    with ytcaption.Pipeline(home=home, model=model, workers=1, threads=1) as q:
        print("text", q.wait(job, timeout=600).text, flush=True)
    # Ctrl-C also stops a one-shot transcription.
    print("transcribing", flush=True)
    try:
        ytcaption.transcribe(clip, model=model, language="en", threads=1)
        print("finished before the signal", flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    """
)


def test_ctrl_c_interrupts_wait_and_keeps_the_journal_consistent(
    tmp_path: Path, long_clip: str
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT, str(tmp_path / "home"), str(MODEL), long_clip],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:

        def expect(prefix: str) -> str:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith(prefix), (line, proc.stderr.read() if proc.poll() is not None else "")  # type: ignore[union-attr]
            return line.strip()

        def interrupt() -> float:
            time.sleep(0.5)
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            expect("interrupted")
            return time.monotonic() - sent

        expect("waiting")
        assert interrupt() < 1.5  # promptly (the wait checks for signals every 0.1 s)
        status = expect("status").split()[1]
        assert status in {"downloading", "transcribing", "completed"}
        after = expect("after").split()
        assert after[1] in {"pending", "completed"}  # requeued by close(), or already done
        types = after[2].split(",")
        assert types[0] == "job_created"
        if after[1] == "pending":
            assert types[-1] == "job_requeued", types
        else:
            assert types[-1] == "transcription_completed", types
        assert "country" in expect("text").lower()
        expect("transcribing")
        assert interrupt() < 1.5
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, threading, ytcaption
    home, model, clip, mode = sys.argv[1:5]
    if mode == "pipeline":
        p = ytcaption.Pipeline(home=home, model=model, workers=1, threads=1)
        p.on_event(lambda ev: print(ev.type, flush=True))
        p.submit(clip, language="en")
    else:  # a one-shot transcription in a daemon thread
        engine = ytcaption.Engine(model, threads=1)
        engine.on_event(lambda ev: print(ev.type, flush=True))
        work = lambda: engine.transcribe(clip, language="en")
        threading.Thread(target=work, daemon=True).start()
    sys.stdin.readline()  # the parent says when to leave
    print("exiting", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["pipeline", "engine"])
def test_exiting_while_whisper_runs_is_clean(tmp_path: Path, long_clip: str, mode: str) -> None:
    # No close(): the interpreter exits while whisper.cpp runs and events are being delivered.
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-c", EXIT_SCRIPT, str(home), str(MODEL), long_clip, mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("transcription_progress"):
            break
    proc.stdin.write("go\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "exiting" in out and "panicked" not in err and "Fatal" not in err, err
    if mode == "pipeline":
        # At exit the open pipeline was closed: the job went back to the queue, and the next
        # pipeline on the home runs it to the end.
        with ytcaption.Pipeline(home=home, model=MODEL, workers=1, threads=1) as p:
            (job,) = p.list()
            assert "country" in p.wait(job, timeout=300).text.lower()
            requeued = [e for e in p.events(job) if e.type == "job_requeued"]
            assert requeued and requeued[0].data["reason"] == "the pipeline was closed"
