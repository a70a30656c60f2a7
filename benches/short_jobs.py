#!/usr/bin/env python3
"""Helper of short_jobs.sh (runs in the bench venv, faster-whisper 1.2.x installed).

  clips --out DIR --count N DIR...
        Writes DIR/list.tsv: N jobs (path, duration, reference text) cycling through the
        distinct clips made from the English clips of DIR.../transcripts.tsv: every clip of
        5-15 s as it is, pairs of consecutive shorter ones joined by 0.5 s of silence when
        the pair lasts 5-15 s, and each of those again as 8 kHz telephone audio (an 8 kHz
        original stays as it is).
  fw    --list TSV --model-dir DIR --compute-type T --threads N --workers W --vad on|off
        --out JSON
        Loads the model once and transcribes every job of the list: W Python threads, each
        with cpu_threads N / W (faster-whisper's num_workers=W); writes texts and timings.
  score --list TSV --texts JSON
        Prints the word error rate of the texts (a JSON list in the list's order) against the
        references, over all jobs together.
"""

import argparse
import concurrent.futures
import json
import os
import sys
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_faster_whisper import (  # noqa: E402
    FW_OPTIONS,
    SAMPLE_RATE,
    english_clips,
    normalize,
    word_error_rate,
    write_wav,
)

GAP = 0.5


def seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def wav_rate(path):
    with wave.open(path) as w:
        return w.getframerate()


def cmd_clips(args):
    import numpy as np
    from faster_whisper.audio import decode_audio

    os.makedirs(args.out, exist_ok=True)
    clips = english_clips(args.dirs)
    distinct = []  # (path, text)

    def add(sources, text):
        """Writes the sources joined by GAP s of silence (16 kHz, or 8 kHz when a source is
        telephone audio), then a 16 kHz result again at 8 kHz."""
        rate = SAMPLE_RATE if all(wav_rate(src) > 8000 for src in sources) else 8000
        parts = []
        for i, src in enumerate(sources):
            if i:
                parts.append(np.zeros(int(GAP * rate), dtype=np.float32))
            parts.append(decode_audio(src, sampling_rate=rate))
        out = os.path.join(args.out, f"clip{len(distinct) + 1:02}.wav")
        write_wav(out, np.concatenate(parts), rate=rate)
        distinct.append((out, text))
        if rate > 8000:
            phone = os.path.join(args.out, f"clip{len(distinct) + 1:02}.wav")
            write_wav(phone, decode_audio(out, sampling_rate=8000), rate=8000)
            distinct.append((phone, text))

    for path, text in clips:
        if 5.0 <= seconds(path) <= 15.0:
            add([path], text)
    for (p1, t1), (p2, t2) in zip(clips, clips[1:]):
        if 5.0 <= seconds(p1) + GAP + seconds(p2) <= 15.0:
            add([p1, p2], f"{t1} {t2}")
    with open(os.path.join(args.out, "list.tsv"), "w", encoding="utf-8") as f:
        for i in range(args.count):
            path, text = distinct[i % len(distinct)]
            f.write(f"{path}\t{seconds(path):.3f}\t{text}\n")
    total = sum(seconds(distinct[i % len(distinct)][0]) for i in range(args.count))
    print(
        f"{args.count} jobs, {len(distinct)} distinct clips, {total:.0f} s of audio in all",
        file=sys.stderr,
    )


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def cmd_fw(args):
    from faster_whisper import WhisperModel

    jobs = read_list(args.list)
    t0 = time.perf_counter()
    model = WhisperModel(
        args.model_dir,
        device="cpu",
        compute_type=args.compute_type,
        cpu_threads=max(1, args.threads // args.workers),
        num_workers=args.workers,
    )
    t1 = time.perf_counter()
    options = dict(FW_OPTIONS, vad_filter=args.vad == "on")

    def one(job):
        segments, _ = model.transcribe(job[0], **options)
        return "".join(s.text for s in segments).strip()

    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        texts = list(pool.map(one, jobs))
    t2 = time.perf_counter()
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"texts": texts, "load_seconds": t1 - t0, "run_seconds": t2 - t1}, f)


def cmd_score(args):
    jobs = read_list(args.list)
    with open(args.texts, encoding="utf-8") as f:
        texts = json.load(f)
    if isinstance(texts, dict):
        texts = texts["texts"]
    errors = words = 0
    for job, text in zip(jobs, texts):
        n = len(normalize(job[2]).split())
        errors += word_error_rate(job[2], text) * n
        words += n
    print(f"{errors / words:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("clips")
    c.add_argument("--out", required=True)
    c.add_argument("--count", type=int, default=200)
    c.add_argument("dirs", nargs="+")
    c = sub.add_parser("fw")
    c.add_argument("--list", required=True)
    c.add_argument("--model-dir", required=True)
    c.add_argument("--compute-type", default="int8")
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--workers", type=int, default=1)
    c.add_argument("--vad", choices=["on", "off"], default="off")
    c.add_argument("--out", required=True)
    c = sub.add_parser("score")
    c.add_argument("--list", required=True)
    c.add_argument("--texts", required=True)
    args = ap.parse_args()
    {"clips": cmd_clips, "fw": cmd_fw, "score": cmd_score}[args.cmd](args)


if __name__ == "__main__":
    main()
