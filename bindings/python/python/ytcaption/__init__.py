"""ytcaption: timestamped transcripts (SRT, WebVTT, JSON, TXT) from media files with
whisper.cpp, one-shot or as durable jobs.

One-shot::

    import ytcaption
    t = ytcaption.transcribe("clip.wav", model="ggml-tiny.en.bin", language="en")
    print(t.text, t.to_srt())

Durable jobs::

    with ytcaption.Pipeline(home="./yc", model="ggml-tiny.en.bin", workers=2) as p:
        job = p.submit("talk.mp3", language="en", priority="high")
        t = p.wait(job.id, timeout=600)

Every blocking call releases the GIL. Errors are :class:`ytcaption.Error` subclasses with a
stable ``.code``.
"""

from __future__ import annotations

import asyncio
import atexit
from typing import Optional, TypeVar, Union

from . import _cpu

# Imports the compiled module for this CPU's level when the wheel carries several (_cpu.py).
_cpu.load(__name__, __path__[0])
from . import _ytcaption  # noqa: E402  (the module _cpu.load put in sys.modules)
from ._errors import (
    DecodeError,
    DownloadError,
    Error,
    InvalidInputError,
    InvalidStateError,
    IoError,
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JournalError,
    ModelError,
    NotifyError,
    StoreError,
    TranscriptionError,
)
from ._errors import TimeoutError as TimeoutError  # exported, though not in __all__ (below)
from ._ytcaption import (
    DECODE_OPTIONS,
    ERROR_CODES,
    LANGUAGES,
    Engine,
    Event,
    Job,
    Segment,
    Subscription,
    Transcript,
    WaitHandle,
    Word,
    __version__,
    normalize,
    probe,
    transcribe,
    word_error_rate,
)

# `TimeoutError` (ytcaption.TimeoutError, a subclass of the builtin) is left out of `__all__` so
# that `from ytcaption import *` does not shadow the builtin.
__all__ = [
    "DECODE_OPTIONS",
    "ERROR_CODES",
    "LANGUAGES",
    "DecodeError",
    "DownloadError",
    "Engine",
    "Error",
    "Event",
    "InvalidInputError",
    "InvalidStateError",
    "IoError",
    "Job",
    "JobCancelledError",
    "JobFailedError",
    "JobNotFoundError",
    "JournalError",
    "ModelError",
    "NotifyError",
    "Pipeline",
    "Segment",
    "StoreError",
    "Subscription",
    "Transcript",
    "TranscriptionError",
    "WaitHandle",
    "Word",
    "__version__",
    "normalize",
    "probe",
    "transcribe",
    "word_error_rate",
]

_P = TypeVar("_P", bound="Pipeline")


class Pipeline(_ytcaption.Pipeline):
    """A durable transcription service in this process.

    ``Pipeline(home=None, model=None, workers=1, threads=None, max_attempts=None, **settings)``
    opens (or creates) the home: the journal, the results and the models; the keyword arguments
    are the core's settings (``chunk_seconds=0``: no chunking, ``store``, ...). Jobs a dead process left
    running go back to the queue, then ``workers`` workers start. Use it as a context manager
    (or call :meth:`close`) to stop the workers and release the journal: one pipeline per home
    at a time, across processes too.

    ``submit`` / ``get`` / ``list`` / ``cancel`` / ``wait`` / ``result`` / ``events`` work on
    jobs (a :class:`Job` or its id); ``on_event`` delivers live events to a callback;
    ``wait_async`` is ``wait`` for asyncio.
    """

    def __enter__(self: _P) -> _P:
        return self

    async def wait_async(
        self, job: Union[Job, str], timeout: Optional[float] = None
    ) -> Transcript:
        """Like :meth:`wait`, as a coroutine: the event loop keeps running while the job
        runs. Cancelling the awaiting task stops the waiting, not the job."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Transcript] = loop.create_future()

        def settle(transcript: Optional[Transcript], error: Optional[BaseException]) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(transcript)  # type: ignore[arg-type]

        def done(transcript: Optional[Transcript], error: Optional[BaseException]) -> None:
            try:
                loop.call_soon_threadsafe(settle, transcript, error)
            except RuntimeError:
                pass  # the event loop is closed: nobody waits any more

        handle = self.wait_with_callback(job, timeout, done)
        try:
            return await future
        finally:
            handle.cancel()


# At exit, stop running transcriptions and close open pipelines before the process ends
# (running jobs go back to the queue, as with close()).
atexit.register(_ytcaption._shutdown)
