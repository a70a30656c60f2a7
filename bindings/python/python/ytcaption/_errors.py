"""ytcaption's exceptions: one class per family of the core's errors.

Every exception raised by ytcaption derives from :class:`Error` and carries ``.code``, the
core's stable machine-readable code (``"input_not_found"``, ``"job_failed"``, ...; see
``ytcaption.ERROR_CODES``), and ``.message``, the core's text for people. Branch on ``.code``
(or on the class), show ``str(err)``.

The binding maps the core's error families to these classes in one function
(``bindings/python/src/errors.rs``), exhaustively.
"""

from __future__ import annotations

import builtins
from typing import Optional

__all__ = [
    "Error",
    "InvalidInputError",
    "DecodeError",
    "DownloadError",
    "ModelError",
    "TranscriptionError",
    "JobCancelledError",
    "JobNotFoundError",
    "JobFailedError",
    "InvalidStateError",
    "JournalError",
    "StoreError",
    "NotifyError",
    "TimeoutError",
    "IoError",
]


class Error(Exception):
    """Base class of every ytcaption error.

    Attributes:
        code: the core's stable error code (snake_case, never renamed).
        message: what went wrong, in words.
        job_id: the job concerned, for job errors (else ``None``).
        job_error_code: for :class:`JobFailedError`, the code of the error that failed the job.
    """

    code: str
    message: str
    job_id: Optional[str]
    job_error_code: Optional[str]

    def __init__(
        self,
        message: str,
        code: str = "unknown",
        *,
        job_id: Optional[str] = None,
        job_error_code: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.job_id = job_id
        self.job_error_code = job_error_code

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.code), self.__dict__)


class InvalidInputError(Error, ValueError):
    """A bad argument or input: ``invalid_input``, ``input_not_found``, ``empty_input``,
    ``invalid_key`` (also a ``ValueError``)."""


class DecodeError(Error):
    """The media could not be read: ``unsupported_format``, ``unsupported_codec``,
    ``decode_failed``, ``no_audio``."""


class DownloadError(Error):
    """The source could not be fetched: ``network``, ``http_status``, ``rate_limited``,
    ``too_large``, ``not_media``, ``unsupported_source``, ``checksum_mismatch``."""


class ModelError(Error):
    """The model is missing or not a whisper.cpp model: ``model_not_found``, ``model_invalid``."""


class TranscriptionError(Error):
    """whisper.cpp failed: ``transcription_failed``."""


class JobCancelledError(Error):
    """The job (or transcription) was cancelled: ``cancelled``."""


class JobNotFoundError(Error):
    """No job has this id: ``job_not_found``."""


class JobFailedError(Error):
    """The job ended in ``failed``: ``job_failed`` (the job's own error code is in
    ``.job_error_code``), or ``attempts_exhausted``."""


class InvalidStateError(Error):
    """The operation does not fit the job's or pipeline's state: ``illegal_transition``
    (e.g. cancelling a completed job), ``closed`` (the pipeline is closed)."""


class JournalError(Error):
    """The journal failed or another process holds it: ``journal_error``, ``journal_locked``."""


class StoreError(Error):
    """Reading or writing results failed: ``store_error``."""


class NotifyError(Error):
    """A notification could not be delivered: ``notify_failed``."""


class TimeoutError(Error, builtins.TimeoutError):
    """A wait took longer than allowed: ``timeout`` (also the builtin ``TimeoutError``)."""


class IoError(Error, OSError):
    """An operating-system I/O error: ``io_error`` (also an ``OSError``; ``.errno`` is set
    when the system gave one)."""

    def __init__(
        self,
        message: str,
        code: str = "io_error",
        *,
        job_id: Optional[str] = None,
        job_error_code: Optional[str] = None,
        errno: Optional[int] = None,
    ) -> None:
        super().__init__(message, code, job_id=job_id, job_error_code=job_error_code)
        self.errno = errno

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.code), {**self.__dict__, "errno": self.errno})
