#!/usr/bin/env python3
"""Helper of compare_faster_whisper.sh: builds the test clip, runs faster-whisper once, and runs
the whole comparison (each engine several times under /usr/bin/time -v, then a table).

Runs inside the bench venv (faster-whisper 1.2.x installed). Subcommands:

  clip  --out WAV --text TXT [--min-seconds 300] [--gap 1.5] [--mixed] DIR...
        Concatenates the English clips listed in DIR/transcripts.tsv (each file once; 16 kHz mono
        after decoding), a known
        silence of --gap seconds after each, repeating the list until --min-seconds is reached;
        writes the WAV (s16) and the reference text (the clips' texts in the same order).
  fw    --audio WAV --model-dir DIR --compute-type T --threads N [--vad on] --out JSON
        One faster-whisper transcription (greedy: beam_size=1, best_of=5, temperature fallback
        0.0, 0.2, ..., 1.0; language en; timestamps on; no VAD unless --vad on). Writes text
        and timings.
  bench --audio WAV --text TXT ... (see `bench --help`)
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave

SAMPLE_RATE = 16000

# faster-whisper's decoding, matched to ytcaption's defaults (whisper.cpp's): greedy at
# temperature 0, falling back to sampling (best_of=5) at 0.2, 0.4, ... 1.0 when a segment fails
# the quality checks (compression ratio 2.4 / whisper.cpp's entropy 2.4, log-probability -1.0,
# no-speech 0.6). Conditioned on the previous text (faster-whisper's default) unless the run
# says otherwise: `--fw-condition on,off` benches both (ytcaption's default is off,
# `--condition-on-previous-text` turns it on).
FW_OPTIONS = dict(
    language="en",
    beam_size=1,
    best_of=5,
    temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
    compression_ratio_threshold=2.4,
    log_prob_threshold=-1.0,
    no_speech_threshold=0.6,
    condition_on_previous_text=True,
    without_timestamps=False,
    word_timestamps=False,
    vad_filter=False,
)


# ---------------------------------------------------------------- word error rate
# The same normalization as ytcaption::eval::normalize: lowercase, accents stripped, every
# character that is not a letter or digit becomes a space, whitespace collapsed.

def normalize(text):
    out = []
    for c in text.lower():
        d = unicodedata.normalize("NFD", c)[0]
        out.append(d if d.isalnum() else " ")
    return " ".join("".join(out).split())


def word_error_rate(reference, hypothesis):
    r = normalize(reference).split()
    h = normalize(hypothesis).split()
    if not r:
        return 0.0 if not h else 1.0
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        ri = r[i - 1]
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j - 1] + (ri != h[j - 1]), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[-1] / len(r)


# ---------------------------------------------------------------- clip

def read_clips(directory):
    rows = []
    with open(os.path.join(directory, "transcripts.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if not line.strip():
                continue
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            if row.get("language") == "en" and row["file"].endswith(".wav"):
                rows.append((os.path.join(directory, row["file"]), row["text"]))
    return rows


def english_clips(dirs):
    """The English WAV clips of each directory's transcripts.tsv, (path, text), each file once
    (the same clip in two directories counts once)."""
    clips, seen = [], set()
    for d in dirs:
        if os.path.isdir(d):
            for path, text in read_clips(d):
                if os.path.basename(path) not in seen:
                    seen.add(os.path.basename(path))
                    clips.append((path, text))
    return clips


def write_wav(path, samples, rate=SAMPLE_RATE):
    """Writes float samples as a mono s16 WAV; returns the s16 samples."""
    import numpy as np

    pcm = np.clip(samples * 32768.0, -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return pcm


def cmd_clip(args):
    import numpy as np
    from faster_whisper.audio import decode_audio

    clips = english_clips(args.dirs)
    if not clips:
        sys.exit("clip: no English clips found in " + ", ".join(args.dirs))
    decoded = [(decode_audio(path, sampling_rate=SAMPLE_RATE), text) for path, text in clips]
    gap = np.zeros(int(args.gap * SAMPLE_RATE), dtype=np.float32)
    parts, texts, total = [], [], 0
    if args.mixed:
        parts, texts = mixed_set(clips, decoded, gap, args.min_seconds)
        total = sum(len(p) for p in parts)
    while total < args.min_seconds * SAMPLE_RATE:
        for audio, text in decoded:
            parts += [audio, gap]
            texts.append(text)
            total += len(audio) + len(gap)
    pcm = write_wav(args.out, np.concatenate(parts))
    with open(args.text, "w", encoding="utf-8") as f:
        f.write(" ".join(texts) + "\n")
    print(
        f"{args.out}: {len(pcm) / SAMPLE_RATE:.1f} s, {len(texts)} clips "
        f"({len(clips)} distinct, {args.gap} s of silence after each)",
        file=sys.stderr,
    )


def mixed_set(clips, decoded, gap, min_seconds):
    """Issue 19's kind of audio: long read passages (the 16 kHz clips back to back, 0.25 s
    apart, about a minute each), short 8 kHz telephone prompts (the 8 kHz clips as they are,
    else 16 kHz clips band-limited through 8 kHz), each followed by `gap`, and 4 s of synthetic
    music between sections (no words in the reference)."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    def rate(path):
        try:
            with wave.open(path) as w:
                return w.getframerate()
        except (wave.Error, EOFError):
            return SAMPLE_RATE

    wide = [(a, t) for (p, _), (a, t) in zip(clips, decoded) if rate(p) > 8000]
    narrow = [(a, t) for (p, _), (a, t) in zip(clips, decoded) if rate(p) <= 8000]
    if not narrow:  # no telephone recordings: make some from the wide clips
        for path, text in clips[:3]:
            low = decode_audio(path, sampling_rate=8000)
            x = np.arange(len(low) * 2) / 2.0
            narrow.append((np.interp(x, np.arange(len(low)), low).astype(np.float32), text))
    short_gap = np.zeros(SAMPLE_RATE // 4, dtype=np.float32)
    t = np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE
    music = sum(0.08 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6, 440.0))
    music = (music * (0.6 + 0.4 * np.sin(2 * np.pi * 2.0 * t))).astype(np.float32)
    parts, texts, total, i, j = [], [], 0, 0, 0
    while total < min_seconds * SAMPLE_RATE:
        passage = 0
        while passage < 55 * SAMPLE_RATE:
            audio, text = wide[i % len(wide)]
            i += 1
            parts += [audio, short_gap]
            texts.append(text)
            passage += len(audio) + len(short_gap)
        parts.append(gap)
        for _ in range(2):
            audio, text = narrow[j % len(narrow)]
            j += 1
            parts += [audio, gap]
            texts.append(text)
        parts += [music, gap]
        total = sum(len(p) for p in parts)
    return parts, texts


# ---------------------------------------------------------------- one faster-whisper run

def cmd_fw(args):
    t0 = time.perf_counter()
    from faster_whisper import WhisperModel

    t1 = time.perf_counter()
    model = WhisperModel(
        args.model_dir,
        device="cpu",
        compute_type=args.compute_type,
        cpu_threads=args.threads,
        num_workers=1,
    )
    t2 = time.perf_counter()
    options = dict(FW_OPTIONS, condition_on_previous_text=args.condition == "on",
                   vad_filter=args.vad == "on")
    segments, info = model.transcribe(args.audio, **options)
    text = "".join(s.text for s in segments)  # the work happens while iterating
    t3 = time.perf_counter()
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "text": text.strip(),
                "duration_seconds": info.duration,
                "import_seconds": t1 - t0,
                "load_seconds": t2 - t1,
                "processing_time_seconds": t3 - t2,
            },
            f,
        )


# ---------------------------------------------------------------- the comparison

TIME_FIELDS = {
    "Elapsed (wall clock) time (h:mm:ss or m:ss)": "wall",
    "Maximum resident set size (kbytes)": "rss_kb",
    "Percent of CPU this job got": "cpu",
    "Exit status": "status",
}


def parse_time_v(path):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            name = TIME_FIELDS.get(key)
            if name == "wall":
                secs = 0.0
                for part in value.split(":"):
                    secs = secs * 60 + float(part)
                out["wall"] = secs
            elif name == "rss_kb":
                out["rss_mib"] = int(value) / 1024
            elif name == "cpu":
                out["cpu"] = float(value.rstrip("%") or 0) / 100
            elif name == "status":
                out["status"] = int(value)
    return out


def audio_seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def configs(args):
    """(label, model label, command builder) for every engine configuration."""
    out = []
    py = sys.executable
    me = os.path.abspath(__file__)
    for ct in args.fw_compute:
        for cond in args.fw_condition:
            for vad in args.fw_vad:
                def fw(result, ct=ct, cond=cond, vad=vad):
                    return [py, me, "fw", "--audio", args.audio, "--model-dir", args.ct2_dir,
                            "--compute-type", ct, "--threads", str(args.threads),
                            "--condition", cond, "--vad", vad, "--out", result]
                name = (f"faster-whisper {ct}" + ("" if cond == "on" else " no-prev-text")
                        + ("" if vad == "off" else " vad_filter"))
                out.append((name, f"ct2 ({os.path.basename(args.ct2_dir)})", fw))
    for extra in args.ytcaption_args or [""]:
        for label, model in (("f16", args.f16), ("q8_0", args.q8)):
            if not model:
                continue

            def yc(result, model=model, extra=extra):
                flags = shlex.split(extra)
                # --threads N for both engines, unless the extra flags say how to split them
                # (e.g. "-p 2 -t 1": two chunks in parallel, one thread each).
                if not {"-t", "--threads"} & set(flags):
                    flags = ["-t", str(args.threads), *flags]
                home = ["--home", args.ytcaption_home] if args.ytcaption_home else []
                return [args.ytcaption, *home, "transcribe", args.audio, "-m", model, "-l", "en",
                        "--format", "json", "-o", result, *flags]
            name = "ytcaption" + (f" {extra}" if extra else "")
            out.append((name, f"ggml {label}", yc))
    return out


def cmd_bench(args):
    duration = audio_seconds(args.audio)
    with open(args.text, encoding="utf-8") as f:
        reference = f.read()
    cfgs = configs(args)
    results = {i: [] for i in range(len(cfgs))}
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    print(
        f"audio {args.audio}: {duration:.1f} s; {args.threads} threads; "
        f"{args.warmup} warm-up + {args.runs} timed runs per engine, interleaved",
        file=sys.stderr,
    )
    tmp = tempfile.mkdtemp(prefix="yc-bench-")
    for rnd in range(args.warmup + args.runs):
        timed = rnd >= args.warmup
        for i, (name, model, build) in enumerate(cfgs):
            result = os.path.join(tmp, f"{i}-{rnd}.json")
            timing = os.path.join(tmp, f"{i}-{rnd}.time")
            cmd = ["/usr/bin/time", "-v", "-o", timing, *build(result)]
            log = os.path.join(tmp, f"{i}-{rnd}.log")
            with open(log, "w") as lf:
                rc = subprocess.call(cmd, stdout=lf, stderr=subprocess.STDOUT, env=env)
            t = parse_time_v(timing)
            if rc != 0 or t.get("status", 1) != 0:
                sys.stderr.write(open(log, encoding="utf-8", errors="replace").read()[-3000:])
                sys.exit(f"{name} ({model}) failed with exit status {rc}: {shlex.join(cmd)}")
            with open(result, encoding="utf-8") as f:
                r = json.load(f)
            t["wer"] = word_error_rate(reference, r.get("text", ""))
            t["inner"] = r.get("processing_time_seconds", float("nan"))
            kind = "run" if timed else "warm-up"
            print(
                f"  {kind} {rnd + 1 - (args.warmup if timed else 0)}: {name:<28} {model:<16} "
                f"{t['wall']:7.2f} s  WER {t['wer']:.3f}  RSS {t['rss_mib']:6.0f} MiB  "
                f"CPU {t['cpu']:.2f}",
                file=sys.stderr,
            )
            if timed:
                results[i].append(t)

    def med(i, k):
        return statistics.median(r[k] for r in results[i])

    base = next((i for i, c in enumerate(cfgs) if c[0] == "faster-whisper int8"), None)
    rows = []
    for i, (name, model, _) in enumerate(cfgs):
        wall = med(i, "wall")
        ratio = wall / med(base, "wall") if base is not None else float("nan")
        wers = sorted({round(r["wer"], 4) for r in results[i]})
        wer = f"{med(i, 'wer'):.3f}" + ("" if len(wers) == 1 else f" ({wers[0]:.3f}-{wers[-1]:.3f})")
        best = min(r["wall"] for r in results[i])
        rows.append([name, model, f"{wall:.2f}", f"{best:.2f}", f"{med(i, 'inner'):.2f}",
                     f"{wall / duration:.3f}", wer, f"{med(i, 'rss_mib'):.0f}",
                     f"{med(i, 'cpu'):.2f}", f"{ratio:.2f}"])
    head = ["engine", "model", "wall s", "best s", "in-proc s", "RTF", "WER", "peak RSS MiB",
            "cores", "vs fw int8"]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    print(f"\n{duration:.1f} s of English audio, {args.threads} threads, median of {args.runs} "
          f"runs (wall: whole process, model load included; best: the fastest run; in-proc: "
          f"the engine's own transcription time; RTF, cores, vs fw int8: from the median wall)\n")
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("clip")
    c.add_argument("--out", required=True)
    c.add_argument("--text", required=True)
    c.add_argument("--min-seconds", type=float, default=300)
    c.add_argument("--gap", type=float, default=1.5)
    c.add_argument("--mixed", action="store_true",
                   help="read passages, 8 kHz telephone prompts and music gaps (issue 19)")
    c.add_argument("dirs", nargs="+")

    f = sub.add_parser("fw")
    f.add_argument("--audio", required=True)
    f.add_argument("--model-dir", required=True)
    f.add_argument("--compute-type", default="int8")
    f.add_argument("--threads", type=int, default=2)
    f.add_argument("--condition", choices=["on", "off"], default="on",
                   help="condition_on_previous_text")
    f.add_argument("--vad", choices=["on", "off"], default="off", help="vad_filter")
    f.add_argument("--out", required=True)

    b = sub.add_parser("bench")
    b.add_argument("--audio", required=True)
    b.add_argument("--text", required=True)
    b.add_argument("--ct2-dir", required=True)
    b.add_argument("--ytcaption", required=True, help="the ytcaption binary")
    b.add_argument("--ytcaption-home",
                   help="ytcaption's --home (an empty one: no VAD model picked up from the user's)")
    b.add_argument("--f16", help="ggml f16 model")
    b.add_argument("--q8", help="ggml q8_0 model")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--runs", type=int, default=3)
    b.add_argument("--warmup", type=int, default=1)
    b.add_argument("--fw-compute", type=lambda s: [x for x in s.split(",") if x], default=["int8"])
    b.add_argument("--fw-condition", type=lambda s: [x for x in s.split(",") if x], default=["on"],
                   help="faster-whisper's condition_on_previous_text: on, off or on,off")
    b.add_argument("--fw-vad", type=lambda s: [x for x in s.split(",") if x], default=["off"],
                   help="faster-whisper's vad_filter (Silero): off, on or off,on")
    b.add_argument("--ytcaption-args", action="append",
                   help="extra flags for ytcaption transcribe (repeat to bench several)")

    args = p.parse_args()
    {"clip": cmd_clip, "fw": cmd_fw, "bench": cmd_bench}[args.cmd](args)


if __name__ == "__main__":
    main()
