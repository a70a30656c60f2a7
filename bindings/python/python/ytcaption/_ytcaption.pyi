"""Type stubs of the compiled module ``ytcaption._ytcaption`` (re-exported by ``ytcaption``)."""

import builtins
import datetime
import os
import pathlib
from typing import Any, Callable, ClassVar, Optional, Union, final

from typing_extensions import Self, disjoint_base

_Path = Union[str, os.PathLike[str]]
_JobRef = Union["Job", str]

__all__ = [
    "__version__",
    "ERROR_CODES",
    "LANGUAGES",
    "DECODE_OPTIONS",
    "transcribe",
    "word_error_rate",
    "normalize",
    "probe",
    "error_classes",
    "decode_option_names",
    "setting_names",
    "_shutdown",
    "Engine",
    "Pipeline",
    "WaitHandle",
    "Subscription",
    "Transcript",
    "Segment",
    "Word",
    "Job",
    "Event",
]

__version__: str
ERROR_CODES: tuple[str, ...]
LANGUAGES: tuple[tuple[str, str], ...]
DECODE_OPTIONS: tuple[str, ...]

def transcribe(
    input: _Path,
    model: Optional[_Path] = None,
    language: str = "auto",
    threads: Optional[int] = None,
    home: Optional[_Path] = None,
    *,
    parallel_chunks: Optional[int] = None,
    chunk_seconds: Optional[float] = None,
    vad_model: Optional[_Path] = None,
    chunk_retries: Optional[int] = None,
    cache: Optional[bool] = None,
    cache_max_mb: Optional[int] = None,
    yt_dlp: Optional[_Path] = None,
    max_size_mb: Optional[int] = None,
    max_duration_seconds: Optional[int] = None,
    download_timeout_seconds: Optional[int] = None,
    download_attempts: Optional[int] = None,
    local_files: Optional[bool] = None,
    allow_network: Optional[str] = None,
    beam_size: Optional[int] = None,
    best_of: Optional[int] = None,
    temperature: Optional[float] = None,
    temperature_increment: Optional[float] = None,
    initial_prompt: Optional[str] = None,
    translate: Optional[bool] = None,
    no_speech_threshold: Optional[float] = None,
    entropy_threshold: Optional[float] = None,
    logprob_threshold: Optional[float] = None,
    word_timestamps: Optional[bool] = None,
    condition_on_previous_text: Optional[bool] = None,
    captions: Optional[str] = None,
    normalize_loudness: Optional[float] = None,
    highpass_hz: Optional[float] = None,
    noise_gate_db: Optional[float] = None,
) -> Transcript:
    """Transcribes a media file now (no journal); the GIL is released while it runs."""

def probe(url: str, **settings: Any) -> dict[str, Any]:
    """A YouTube video's info (title, duration_seconds, uploader, upload_date, live_status,
    subtitle_languages, automatic_caption_languages, estimated_transcription_seconds,
    estimate_model, warnings), read without downloading media; keyword arguments are engine
    settings (``yt_dlp``, ``max_duration_seconds``, ``model``, ...)."""

def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate after the core's normalization; 0.0 is perfect."""

def normalize(text: str) -> str:
    """The text normalization used by ``word_error_rate``."""

def error_classes() -> dict[str, str]:
    """The exception class name of each error family of the core."""

def decode_option_names() -> tuple[str, ...]:
    """The names of the core's decoding options (the same as ``DECODE_OPTIONS``)."""

def setting_names(scope: str) -> tuple[str, ...]:
    """The names of the core's settings of a scope: ``"engine"``, ``"pipeline"`` or ``"request"``."""

def _shutdown() -> None:
    """Stops running transcriptions and closes open pipelines (run by ``atexit``)."""

@final
class Word:
    """One word with its timing (approximate, about ±0.2 s)."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def probability(self) -> float: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

@final
class Segment:
    """One timed piece of text."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    @property
    def id(self) -> int: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def no_speech_prob(self) -> Optional[float]: ...
    @property
    def words(self) -> builtins.list[Word]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...

@final
class Transcript:
    """A finished transcript: the text, its timed segments and how it was made."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    @staticmethod
    def from_json(json: str) -> Transcript: ...
    @property
    def id(self) -> str: ...
    @property
    def job_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def language_probability(self) -> Optional[float]: ...
    @property
    def duration(self) -> float: ...
    @property
    def processing_time(self) -> float: ...
    @property
    def model(self) -> str: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def segments(self) -> list[Segment]: ...
    def to_srt(self) -> str: ...
    def to_vtt(self) -> str: ...
    def to_json(self) -> str: ...
    def to_txt(self) -> str: ...
    def render(self, format: str) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Job:
    """A durable transcription job, as stored in the journal (a snapshot)."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def requested_by(self) -> Optional[str]: ...
    @property
    def webhook_url(self) -> Optional[str]: ...
    @property
    def idempotency_key(self) -> Optional[str]: ...
    @property
    def options(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def updated_at(self) -> datetime.datetime: ...
    @property
    def completed_at(self) -> Optional[datetime.datetime]: ...
    @property
    def error_code(self) -> Optional[str]: ...
    @property
    def error_message(self) -> Optional[str]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def is_terminal(self) -> bool: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Event:
    """One thing that happened to a job."""

    __hash__: ClassVar[None]  # type: ignore[assignment]
    @property
    def type(self) -> str: ...
    @property
    def job_id(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def timestamp(self) -> datetime.datetime: ...
    @property
    def event_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def correlation_id(self) -> str: ...
    @property
    def causation_id(self) -> Optional[str]: ...
    @property
    def is_terminal(self) -> bool: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Subscription:
    """A running ``on_event`` subscription; ``cancel()`` stops it."""

    def cancel(self) -> None: ...
    @property
    def active(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> None: ...

@final
class WaitHandle:
    """A background wait started by ``Pipeline.wait_with_callback``."""

    def cancel(self) -> None: ...
    @property
    def done(self) -> bool: ...

@final
class Engine:
    """A loaded model for repeated one-shot transcriptions (no journal)."""

    def __new__(
        cls,
        model: Optional[_Path] = None,
        *,
        home: Optional[_Path] = None,
        threads: Optional[int] = None,
        parallel_chunks: Optional[int] = None,
        chunk_seconds: Optional[float] = None,
        vad_model: Optional[_Path] = None,
        chunk_retries: Optional[int] = None,
        cache: Optional[bool] = None,
        cache_max_mb: Optional[int] = None,
        yt_dlp: Optional[_Path] = None,
        max_size_mb: Optional[int] = None,
        max_duration_seconds: Optional[int] = None,
        download_timeout_seconds: Optional[int] = None,
        download_attempts: Optional[int] = None,
        local_files: Optional[bool] = None,
        allow_network: Optional[str] = None,
    ) -> Self: ...
    @property
    def model(self) -> str: ...
    def transcribe(
        self,
        input: _Path,
        language: str = "auto",
        *,
        beam_size: Optional[int] = None,
        best_of: Optional[int] = None,
        temperature: Optional[float] = None,
        temperature_increment: Optional[float] = None,
        initial_prompt: Optional[str] = None,
        translate: Optional[bool] = None,
        no_speech_threshold: Optional[float] = None,
        entropy_threshold: Optional[float] = None,
        logprob_threshold: Optional[float] = None,
        word_timestamps: Optional[bool] = None,
        condition_on_previous_text: Optional[bool] = None,
        captions: Optional[str] = None,
        normalize_loudness: Optional[float] = None,
        highpass_hz: Optional[float] = None,
        noise_gate_db: Optional[float] = None,
    ) -> Transcript: ...
    def on_event(self, callback: Callable[[Event], object]) -> Subscription: ...

@disjoint_base
class Pipeline:
    """A durable transcription service in this process (see ``ytcaption.Pipeline``)."""

    def __new__(
        cls,
        home: Optional[_Path] = None,
        model: Optional[_Path] = None,
        workers: int = 1,
        threads: Optional[int] = None,
        max_attempts: Optional[int] = None,
        *,
        parallel_chunks: Optional[int] = None,
        chunk_seconds: Optional[float] = None,
        vad_model: Optional[_Path] = None,
        chunk_retries: Optional[int] = None,
        cache: Optional[bool] = None,
        cache_max_mb: Optional[int] = None,
        yt_dlp: Optional[_Path] = None,
        max_size_mb: Optional[int] = None,
        max_duration_seconds: Optional[int] = None,
        download_timeout_seconds: Optional[int] = None,
        download_attempts: Optional[int] = None,
        local_files: Optional[bool] = None,
        allow_network: Optional[str] = None,
        store: Optional[str] = None,
        journal: Optional[str] = None,
        journal_lease_seconds: Optional[float] = None,
        webhook_secret: Optional[str] = None,
        webhook_retry_delay: Optional[float] = None,
        webhook_max_age: Optional[float] = None,
        job_timeout_seconds: Optional[int] = None,
        idempotency_ttl_hours: Optional[int] = None,
        retention_days: Optional[int] = None,
    ) -> Self: ...
    @property
    def home(self) -> pathlib.Path: ...
    @property
    def model(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def submit(
        self,
        input: _Path,
        *,
        language: str = "auto",
        priority: str = "normal",
        requested_by: Optional[str] = None,
        webhook_url: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        beam_size: Optional[int] = None,
        best_of: Optional[int] = None,
        temperature: Optional[float] = None,
        temperature_increment: Optional[float] = None,
        initial_prompt: Optional[str] = None,
        translate: Optional[bool] = None,
        no_speech_threshold: Optional[float] = None,
        entropy_threshold: Optional[float] = None,
        logprob_threshold: Optional[float] = None,
        word_timestamps: Optional[bool] = None,
        condition_on_previous_text: Optional[bool] = None,
        captions: Optional[str] = None,
        normalize_loudness: Optional[float] = None,
        highpass_hz: Optional[float] = None,
        noise_gate_db: Optional[float] = None,
    ) -> Job: ...
    def get(self, job: _JobRef) -> Job: ...
    def list(self, status: Optional[str] = None, limit: Optional[int] = None) -> builtins.list[Job]: ...
    def cancel(self, job: _JobRef) -> Job: ...
    def wait(self, job: _JobRef, timeout: Optional[float] = None) -> Transcript: ...
    def wait_with_callback(
        self,
        job: _JobRef,
        timeout: Optional[float],
        done: Callable[[Optional[Transcript], Optional[BaseException]], object],
    ) -> WaitHandle: ...
    def result(self, job: _JobRef) -> Transcript: ...
    def events(self, job: _JobRef) -> builtins.list[Event]: ...
    def transcribe(
        self,
        input: _Path,
        language: str = "auto",
        *,
        beam_size: Optional[int] = None,
        best_of: Optional[int] = None,
        temperature: Optional[float] = None,
        temperature_increment: Optional[float] = None,
        initial_prompt: Optional[str] = None,
        translate: Optional[bool] = None,
        no_speech_threshold: Optional[float] = None,
        entropy_threshold: Optional[float] = None,
        logprob_threshold: Optional[float] = None,
        word_timestamps: Optional[bool] = None,
        condition_on_previous_text: Optional[bool] = None,
        captions: Optional[str] = None,
        normalize_loudness: Optional[float] = None,
        highpass_hz: Optional[float] = None,
        noise_gate_db: Optional[float] = None,
    ) -> Transcript: ...
    def is_idle(self) -> bool: ...
    def on_event(self, callback: Callable[[Event], object]) -> Subscription: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> None: ...
