"""asyncio: wait_async keeps the event loop running."""

from __future__ import annotations

import asyncio
import time

import pytest

import ytcaption
from conftest import JFK, JFK_TEXT, PipelineFactory


def test_wait_async_lets_other_coroutines_run(
    make_pipeline: PipelineFactory, long_clip: str
) -> None:
    p = make_pipeline(workers=1)

    async def main() -> tuple[ytcaption.Transcript, list[float], float, float]:
        ticks: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        job = p.submit(long_clip, language="en")
        start = time.monotonic()
        t = await p.wait_async(job.id, timeout=300)
        end = time.monotonic()
        stop.set()
        await task
        return t, ticks, start, end

    t, ticks, start, end = asyncio.run(main())
    assert "country" in t.text.lower()
    during = [x for x in ticks if start <= x <= end]
    # The ticker ran all along: no gap longer than a second while the job ran.
    assert end - start > 0.5
    assert len(during) >= 20, (len(during), end - start)
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert max(gaps) < 1.0


def test_several_waits_at_once_and_errors(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=1)

    async def main() -> None:
        a = p.submit(JFK, language="en")
        b = p.submit(JFK, language="en")
        ta, tb = await asyncio.gather(p.wait_async(a), p.wait_async(b.id))
        assert ytcaption.word_error_rate(JFK_TEXT, ta.text) <= 0.05
        assert ta.job_id == a.id and tb.job_id == b.id
        with pytest.raises(ytcaption.JobNotFoundError) as e:
            await p.wait_async("01890000-0000-7000-8000-000000000000")
        assert e.value.code == "job_not_found"

    asyncio.run(main())


def test_wait_async_timeout_cancel_and_task_cancellation(make_pipeline: PipelineFactory) -> None:
    p = make_pipeline(workers=0)  # nothing runs: jobs stay pending

    async def main() -> None:
        job = p.submit(JFK)
        with pytest.raises(ytcaption.TimeoutError) as e:
            await p.wait_async(job, timeout=0.2)
        assert e.value.code == "timeout"

        # Cancelling the job ends the wait with JobCancelledError.
        waiting = asyncio.create_task(p.wait_async(job))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        p.cancel(job)
        with pytest.raises(ytcaption.JobCancelledError):
            await asyncio.wait_for(waiting, 10)

        # Cancelling the awaiting task stops the waiting, not the job.
        other = p.submit(JFK)
        task = asyncio.create_task(p.wait_async(other))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert p.get(other).status == "pending"

    asyncio.run(main())
