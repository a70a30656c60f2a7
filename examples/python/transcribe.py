#!/usr/bin/env python3
"""Transcribe a media file with ytcaption from Python: once directly, once as a durable job.

    pip install ./bindings/python            # from a clone of the repository (builds with Rust)
    python examples/python/transcribe.py MODEL INPUT
    python examples/python/transcribe.py ggml-tiny.en.bin fixtures/audio/en_jfk.wav

MODEL is a whisper.cpp model file (ggml-*.bin; `ytcaption model download tiny.en` fetches one).
The one-shot transcript goes to stdout as SRT; the job's events and result go to stderr.
"""

import sys
import tempfile

import ytcaption


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model, media = sys.argv[1], sys.argv[2]
    try:
        one_shot(model, media)
        as_job(model, media)
    except ytcaption.Error as e:  # every error has the core's stable .code (input_not_found, ...)
        print(f"error: {e.message} [{e.code}]", file=sys.stderr)
        return 1
    return 0


def one_shot(model: str, media: str) -> None:
    """Loads the model, transcribes, returns a Transcript: no journal, no job."""
    t = ytcaption.transcribe(media, model=model, language="en")
    print(t.to_srt(), end="")  # also t.to_vtt(), t.to_json(), t.to_txt()


def as_job(model: str, media: str) -> None:
    """A durable job: written to the journal in `home`, run by the pipeline's worker. A job
    interrupted by a crash is picked up again by the next Pipeline on the same home."""
    with tempfile.TemporaryDirectory() as home:
        with ytcaption.Pipeline(home=home, model=model, workers=1) as pipeline:
            # Events arrive on a thread of their own, in order: keep callbacks short.
            pipeline.on_event(lambda ev: print(f"event: {ev.type}", file=sys.stderr))
            job = pipeline.submit(media, language="en")
            # Blocks until the job ends; JobFailedError, JobCancelledError, TimeoutError.
            result = pipeline.wait(job, timeout=600)
            print(f"job {job.id}: {pipeline.get(job).status}", file=sys.stderr)
            print(f"job text: {result.text.strip()}", file=sys.stderr)
            # The job also wrote <home>/results/<job_id>/transcript.{srt,vtt,json,txt}.


if __name__ == "__main__":
    sys.exit(main())
