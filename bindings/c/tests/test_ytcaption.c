/*
 * Tests of the C API against the real library, the real whisper.cpp model and real speech.
 *
 *   test_ytcaption MODEL FIXTURES_DIR WORKDIR CLI_TXT THREADS
 *
 * MODEL: the tiny.en ggml model; FIXTURES_DIR: fixtures/audio (en_jfk.wav, transcripts.tsv);
 * WORKDIR: an empty directory for the home and bad inputs; CLI_TXT: what `ytcaption transcribe
 * en_jfk.wav -F txt` printed (its WER is the bar); THREADS: whisper.cpp threads.
 *
 * Covers: one-shot transcription (pipeline and engine) with WER within 0.02 of the CLI's,
 * segments and every rendering, submit/wait/cancel/result and the job queries, the event
 * callback (userdata, thread, replacement, clearing, free), a real bad input for every status
 * the core can produce here, the interface's own statuses, NULL for every pointer argument, and
 * out-parameters left untouched on failure. Exit status 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <ytcaption.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int checks = 0;
static int failures = 0;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

static char last_error[4096];

static const char *last_message(void) {
    ytc_last_error_message(last_error, sizeof last_error);
    return last_error;
}

/* `call` returns `expected`; on a failure status the message is not empty. */
#define EXPECT(call, expected)                                                   \
    do {                                                                         \
        ytc_status got_ = (call);                                                \
        const char *msg_ = got_ == YTC_OK ? "" : last_message();                 \
        CHECK(got_ == (expected), "%s returned %s (%d), expected %s: %s", #call, \
              ytc_status_code(got_), (int)got_, ytc_status_code(expected), msg_); \
        if (got_ != YTC_OK && got_ == (expected)) {                              \
            CHECK(msg_[0] != '\0', "%s: empty error message", #call);           \
        }                                                                        \
    } while (0)

/* A pointer that must survive failed calls unchanged (out-parameters are written on success
 * only). */
static char sentinel_storage;
#define SENTINEL ((void *)&sentinel_storage)

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double started;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Progress on stdout, with the time since the start. */
static void phase(const char *name) { printf("[%6.1f s] %s\n", now() - started, name); fflush(stdout); }

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static int write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t put = fwrite(data, 1, len, f);
    fclose(f);
    return put == len ? 0 : -1;
}

/* The reference text of `clip` in transcripts.tsv (file, language, text, source). */
static char *reference_text(const char *fixtures, const char *clip) {
    char path[4096];
    snprintf(path, sizeof path, "%s/transcripts.tsv", fixtures);
    char *tsv = read_file(path);
    if (!tsv) return NULL;
    char *result = NULL;
    size_t clip_len = strlen(clip);
    for (char *line = tsv; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (strncmp(line, clip, clip_len) == 0 && line[clip_len] == '\t') {
            char *lang = line + clip_len + 1;
            char *text = strchr(lang, '\t');
            if (text) {
                text++;
                char *end = strchr(text, '\t');
                if (end) *end = '\0';
                result = strdup(text);
            }
            break;
        }
        line = next;
    }
    free(tsv);
    return result;
}

static double wer(const char *reference, const char *hypothesis) {
    double w = -1.0;
    EXPECT(ytc_word_error_rate(reference, hypothesis, &w), YTC_OK);
    return w;
}

/* ---- events ---------------------------------------------------------------------------- */

#define MAX_EVENTS 512

typedef struct {
    pthread_mutex_t mu;
    int count;
    int malformed;        /* an event whose fields are not what the API promises */
    int wrong_userdata;   /* userdata differed from the pointer given */
    int on_caller_thread; /* delivered on the thread that set the callback */
    pthread_t caller;
    char types[MAX_EVENTS][32];
    char jobs[MAX_EVENTS][YTC_JOB_ID_SIZE];
} recorder;

static recorder rec_a = {.mu = PTHREAD_MUTEX_INITIALIZER};
static recorder rec_b = {.mu = PTHREAD_MUTEX_INITIALIZER};
static recorder rec_c = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void record(recorder *r, const ytc_event *ev, void *userdata) {
    pthread_mutex_lock(&r->mu);
    if (userdata != (void *)r) r->wrong_userdata++;
    if (pthread_equal(pthread_self(), r->caller)) r->on_caller_thread++;
    if (!ev || !ev->event_type || !ev->job_id || !ev->data || !ev->json ||
        strlen(ev->job_id) != 36 || ev->data[0] != '{' ||
        !strstr(ev->json, "\"event_type\"") || !strstr(ev->json, ev->job_id)) {
        r->malformed++;
    } else if (r->count < MAX_EVENTS) {
        snprintf(r->types[r->count], sizeof r->types[0], "%s", ev->event_type);
        snprintf(r->jobs[r->count], sizeof r->jobs[0], "%s", ev->job_id);
    }
    r->count++;
    pthread_mutex_unlock(&r->mu);
}

static void on_event_a(const ytc_event *ev, void *userdata) { record(&rec_a, ev, userdata); }
static void on_event_c(const ytc_event *ev, void *userdata) { record(&rec_c, ev, userdata); }
static void on_event_b(const ytc_event *ev, void *userdata) {
    /* Some work in the callback, to widen the window in which it is running. */
    sleep_ms(1);
    record(&rec_b, ev, userdata);
}

static int event_count(recorder *r) {
    pthread_mutex_lock(&r->mu);
    int n = r->count;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Whether `r` saw an event of `type` for `job` (any job when NULL). */
static int saw(recorder *r, const char *type, const char *job) {
    int found = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->count && i < MAX_EVENTS; i++) {
        if (strcmp(r->types[i], type) == 0 && (!job || strcmp(r->jobs[i], job) == 0)) found = 1;
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

/* How many events of `type` for `job` `r` saw. */
static int count_of(recorder *r, const char *type, const char *job) {
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->count && i < MAX_EVENTS; i++) {
        if (strcmp(r->types[i], type) == 0 && strcmp(r->jobs[i], job) == 0) n++;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Events are delivered on their own thread: give it a moment to catch up. */
static int eventually_saw(recorder *r, const char *type, const char *job) {
    for (int i = 0; i < 500; i++) {
        if (saw(r, type, job)) return 1;
        sleep_ms(20);
    }
    return 0;
}

/* ---- the checks ------------------------------------------------------------------------ */

typedef struct {
    const char *model;
    const char *fixtures;
    const char *work;
    char jfk[4096];
    char missing[4096], empty[4096], text_mp3[4096], half_wav[4096], ac3_mka[4096],
        no_samples_wav[4096], bad_model[4096], home[4096];
    char *reference;
    double cli_wer;
    size_t threads;
} ctx;

static void make_bad_inputs(ctx *c) {
    snprintf(c->missing, sizeof c->missing, "%s/does-not-exist.wav", c->work);
    snprintf(c->empty, sizeof c->empty, "%s/empty.wav", c->work);
    snprintf(c->text_mp3, sizeof c->text_mp3, "%s/x.mp3", c->work);
    snprintf(c->half_wav, sizeof c->half_wav, "%s/half.wav", c->work);
    snprintf(c->ac3_mka, sizeof c->ac3_mka, "%s/x.mka", c->work);
    snprintf(c->no_samples_wav, sizeof c->no_samples_wav, "%s/no-samples.wav", c->work);
    snprintf(c->bad_model, sizeof c->bad_model, "%s/not-a-model.bin", c->work);
    snprintf(c->home, sizeof c->home, "%s/home", c->work);

    CHECK(write_file(c->empty, "", 0) == 0, "writing %s", c->empty);
    const char *text = "this is a text file, not an mp3\n";
    CHECK(write_file(c->text_mp3, text, strlen(text)) == 0, "writing %s", c->text_mp3);
    CHECK(write_file(c->bad_model, text, strlen(text)) == 0, "writing %s", c->bad_model);

    /* en_jfk.wav cut in half: the header still declares 11 s. */
    FILE *f = fopen(c->jfk, "rb");
    CHECK(f != NULL, "opening %s", c->jfk);
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)n);
        size_t got = fread(buf, 1, (size_t)n, f);
        fclose(f);
        CHECK(write_file(c->half_wav, buf, got / 2) == 0, "writing %s", c->half_wav);
        free(buf);
    }

    /* A WAV whose data chunk is empty: 16 kHz mono 16-bit, no samples. */
    static const unsigned char wav[44] = {
        'R', 'I', 'F', 'F', 36, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
        16, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0,
        2, 0, 16, 0, 'd', 'a', 't', 'a', 0, 0, 0, 0};
    CHECK(write_file(c->no_samples_wav, wav, sizeof wav) == 0, "writing %s", c->no_samples_wav);

    /* AC-3 audio in Matroska: a container symphonia reads, a codec it cannot decode. */
    char cmd[12000];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -loglevel error -y -i '%s' -c:a ac3 '%s'", c->jfk,
             c->ac3_mka);
    CHECK(system(cmd) == 0, "%s", cmd);
}

static void check_statics(void) {
    const char *v = ytc_version();
    CHECK(v && strcmp(v, "0.1.0") == 0, "version %s", v ? v : "(null)");
    CHECK(strcmp(ytc_status_code(YTC_OK), "ok") == 0, "ok");
    CHECK(strcmp(ytc_status_code(YTC_NULL_ARGUMENT), "null_argument") == 0, "null_argument");
    CHECK(strcmp(ytc_status_code(YTC_INPUT_NOT_FOUND), "input_not_found") == 0, "code");
    CHECK(strcmp(ytc_status_code(YTC_IO_ERROR), "io_error") == 0, "code");
    CHECK(strcmp(ytc_status_code(4242), "unknown") == 0, "unknown status");
    CHECK(strcmp(ytc_status_code(-1), "unknown") == 0, "negative status");
    CHECK(YTC_INVALID_INPUT == 100 && YTC_JOB_FAILED == 119, "numbering");

    double w = -1;
    EXPECT(ytc_word_error_rate("a b c d", "a x c", &w), YTC_OK);
    CHECK(fabs(w - 0.5) < 1e-9, "wer %f", w);

    /* Video info: a playlist is refused before yt-dlp runs. */
    char *info = SENTINEL;
    EXPECT(ytc_probe(NULL, "https://www.youtube.com/playlist?list=PL1", &info), YTC_INVALID_INPUT);
    CHECK(info == SENTINEL, "out untouched on failure");
    CHECK(strstr(last_message(), "playlist") != NULL, "message: %s", last_error);
}

/* Every pointer argument NULL, one at a time: a status (or NULL / 0 / nothing), never a
 * crash; out-parameters keep their value. */
static void check_null_arguments(void) {
    ytc_options *o = ytc_options_new();
    ytc_request *r = ytc_request_new();
    CHECK(o && r, "new");
    char id[YTC_JOB_ID_SIZE] = "untouched";
    ytc_pipeline *p = SENTINEL;
    ytc_engine *e = SENTINEL;
    ytc_transcript *t = SENTINEL;
    char *s = SENTINEL;
    const char *cs = SENTINEL;
    double d = 7.0;
    ytc_segment seg = {.id = 99};
    const char *uuid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    EXPECT(ytc_options_set_home(NULL, "x"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_home(o, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_model(NULL, "x"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_model(o, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_workers(NULL, 1), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_threads(NULL, 1), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_max_attempts(NULL, 1), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_parallel_chunks(NULL, 1), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_chunk_seconds(NULL, 30.0), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_vad_model(NULL, "x"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_vad_model(o, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set_chunk_retries(NULL, 1), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set(NULL, "threads", "1"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set(o, NULL, "1"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_options_set(o, "threads", NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set(NULL, "beam_size", "1"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set(r, NULL, "1"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set(r, "beam_size", NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_word_timestamps(NULL, true), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_condition_on_previous_text(NULL, true), YTC_NULL_ARGUMENT);
    ytc_word word = {.start = 7.0};
    EXPECT(ytc_transcript_word(NULL, 0, 0, &word), YTC_NULL_ARGUMENT);
    CHECK(word.start == 7.0, "out written on failure");

    EXPECT(ytc_request_set_language(NULL, "en"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_language(r, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_priority(NULL, "high"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_priority(r, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_idempotency_key(NULL, "k"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_idempotency_key(r, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_requested_by(NULL, "me"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_requested_by(r, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_webhook_url(NULL, "https://x"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_webhook_url(r, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_initial_prompt(NULL, "p"), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_initial_prompt(r, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_beam_size(NULL, 5), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_best_of(NULL, 5), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_temperature(NULL, 0.0f), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_temperature_increment(NULL, 0.2f), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_translate(NULL, false), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_no_speech_threshold(NULL, 0.6f), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_entropy_threshold(NULL, 2.4f), YTC_NULL_ARGUMENT);
    EXPECT(ytc_request_set_logprob_threshold(NULL, -1.0f), YTC_NULL_ARGUMENT);

    EXPECT(ytc_pipeline_open(NULL, &p), YTC_NULL_ARGUMENT);
    EXPECT(ytc_pipeline_open(o, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_pipeline_set_event_callback(NULL, on_event_a, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcribe(NULL, "x.wav", "en", &t), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcribe_with(NULL, "x.wav", r, &t), YTC_NULL_ARGUMENT);
    EXPECT(ytc_submit(NULL, "x.wav", "en", id, sizeof id), YTC_NULL_ARGUMENT);
    EXPECT(ytc_submit(NULL, "x.wav", "en", NULL, sizeof id), YTC_NULL_ARGUMENT);
    EXPECT(ytc_submit_with(NULL, "x.wav", r, id, sizeof id), YTC_NULL_ARGUMENT);
    EXPECT(ytc_wait(NULL, uuid, 0, &t), YTC_NULL_ARGUMENT);
    EXPECT(ytc_cancel(NULL, uuid), YTC_NULL_ARGUMENT);
    EXPECT(ytc_result(NULL, uuid, &t), YTC_NULL_ARGUMENT);
    EXPECT(ytc_job_status(NULL, uuid, &cs), YTC_NULL_ARGUMENT);
    EXPECT(ytc_job_json(NULL, uuid, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_job_events_json(NULL, uuid, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_jobs_json(NULL, NULL, 0, &s), YTC_NULL_ARGUMENT);

    EXPECT(ytc_engine_open(NULL, &e), YTC_NULL_ARGUMENT);
    EXPECT(ytc_engine_open(o, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_engine_set_event_callback(NULL, on_event_a, NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_engine_transcribe(NULL, "x.wav", "en", &t), YTC_NULL_ARGUMENT);
    EXPECT(ytc_engine_transcribe_with(NULL, "x.wav", r, &t), YTC_NULL_ARGUMENT);

    EXPECT(ytc_transcript_segment(NULL, 0, &seg), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcript_to_srt(NULL, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcript_to_vtt(NULL, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcript_to_json(NULL, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcript_to_txt(NULL, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_transcript_render(NULL, "srt", &s), YTC_NULL_ARGUMENT);
    CHECK(ytc_transcript_text(NULL) == NULL, "text(NULL)");
    CHECK(ytc_transcript_language(NULL) == NULL, "language(NULL)");
    CHECK(ytc_transcript_model(NULL) == NULL, "model(NULL)");
    CHECK(ytc_transcript_job_id(NULL) == NULL, "job_id(NULL)");
    CHECK(ytc_transcript_segment_count(NULL) == 0, "segment_count(NULL)");
    CHECK(ytc_transcript_duration_seconds(NULL) == 0.0, "duration(NULL)");
    CHECK(ytc_transcript_processing_seconds(NULL) == 0.0, "processing(NULL)");
    CHECK(strstr(last_message(), "`transcript`") != NULL, "message names the argument: %s",
          last_error);

    EXPECT(ytc_probe(NULL, NULL, &s), YTC_NULL_ARGUMENT);
    EXPECT(ytc_probe(o, "https://youtu.be/dQw4w9WgXcQ", NULL), YTC_NULL_ARGUMENT);
    EXPECT(ytc_word_error_rate(NULL, "a", &d), YTC_NULL_ARGUMENT);
    EXPECT(ytc_word_error_rate("a", NULL, &d), YTC_NULL_ARGUMENT);
    EXPECT(ytc_word_error_rate("a", "a", NULL), YTC_NULL_ARGUMENT);
    CHECK(ytc_last_error_message(NULL, 0) > 0, "length query with a NULL buffer");

    /* _free(NULL) does nothing. */
    ytc_options_free(NULL);
    ytc_request_free(NULL);
    ytc_pipeline_free(NULL);
    ytc_engine_free(NULL);
    ytc_transcript_free(NULL);
    ytc_string_free(NULL);

    CHECK(p == SENTINEL && e == SENTINEL && t == SENTINEL && (void *)s == SENTINEL &&
              (const void *)cs == SENTINEL,
          "an out-parameter was written by a failed call");
    CHECK(d == 7.0 && seg.id == 99 && strcmp(id, "untouched") == 0,
          "an out-parameter was written by a failed call");
    ytc_request_free(r);
    ytc_options_free(o);
}

/* The interface's own statuses for real bad arguments. */
static void check_interface_statuses(ytc_pipeline *p, const ytc_transcript *t, const ctx *c) {
    char small[8] = "same";
    EXPECT(ytc_submit(p, c->jfk, "en", small, sizeof small), YTC_BUFFER_TOO_SMALL);
    CHECK(strcmp(small, "same") == 0, "buffer written by a failed submit");

    ytc_transcript *out = SENTINEL;
    EXPECT(ytc_transcribe(p, "clip-\xff\xfe.wav", "en", &out), YTC_INVALID_UTF8);
    EXPECT(ytc_transcribe(p, c->jfk, "e\xffn", &out), YTC_INVALID_UTF8);
    CHECK(out == SENTINEL, "out written by a failed call");

    size_t n = ytc_transcript_segment_count(t);
    ytc_segment seg = {.id = 77};
    EXPECT(ytc_transcript_segment(t, n, &seg), YTC_INDEX_OUT_OF_RANGE);
    EXPECT(ytc_transcript_segment(t, (size_t)-1, &seg), YTC_INDEX_OUT_OF_RANGE);
    CHECK(seg.id == 77, "segment written by a failed call");

    /* Messages truncate like snprintf. */
    EXPECT(ytc_transcript_segment(t, n, &seg), YTC_INDEX_OUT_OF_RANGE);
    char tiny[6];
    size_t len = ytc_last_error_message(tiny, sizeof tiny);
    CHECK(len > sizeof tiny && strlen(tiny) == sizeof tiny - 1, "truncation: %zu '%s'", len,
          tiny);
    char full[512];
    CHECK(ytc_last_error_message(full, sizeof full) == len && strlen(full) == len &&
              strncmp(full, tiny, sizeof tiny - 1) == 0,
          "full message '%s'", full);
}

static void check_transcript(const ytc_transcript *t, const ctx *c, const char *what) {
    const char *text = ytc_transcript_text(t);
    CHECK(text && strlen(text) > 20, "%s: text '%s'", what, text ? text : "(null)");
    if (!text) return;
    double w = wer(c->reference, text);
    printf("%s: WER %.3f (CLI %.3f): %s\n", what, w, c->cli_wer, text);
    CHECK(w >= 0 && fabs(w - c->cli_wer) <= 0.02, "%s: WER %.3f vs the CLI's %.3f", what, w,
          c->cli_wer);
    CHECK(strcmp(ytc_transcript_language(t), "en") == 0, "language %s",
          ytc_transcript_language(t));
    CHECK(strcmp(ytc_transcript_model(t), "tiny.en") == 0, "model %s", ytc_transcript_model(t));
    CHECK(strlen(ytc_transcript_job_id(t)) == 36, "job id %s", ytc_transcript_job_id(t));
    double dur = ytc_transcript_duration_seconds(t);
    CHECK(fabs(dur - 11.0) < 0.1, "duration %f", dur);
    CHECK(ytc_transcript_processing_seconds(t) > 0.0, "processing time");

    size_t n = ytc_transcript_segment_count(t);
    CHECK(n >= 1, "%zu segments", n);
    double prev_end = 0.0;
    size_t joined = 0;
    for (size_t i = 0; i < n; i++) {
        ytc_segment seg;
        EXPECT(ytc_transcript_segment(t, i, &seg), YTC_OK);
        CHECK(seg.id == i, "segment id %u at %zu", seg.id, i);
        CHECK(seg.word_count == 0, "words without word timestamps at %zu", i);
        CHECK(seg.start >= prev_end - 1e-6 && seg.end >= seg.start && seg.end <= dur + 1e-6,
              "segment %zu: %f..%f", i, seg.start, seg.end);
        CHECK(seg.text && strlen(seg.text) > 0 && strstr(text, seg.text) != NULL,
              "segment %zu text '%s'", i, seg.text ? seg.text : "(null)");
        prev_end = seg.end;
        joined += strlen(seg.text);
    }
    CHECK(joined > 0 && joined <= strlen(text), "segments make up the text");

    char *srt = NULL, *vtt = NULL, *json = NULL, *txt = NULL, *again = NULL;
    EXPECT(ytc_transcript_to_srt(t, &srt), YTC_OK);
    EXPECT(ytc_transcript_to_vtt(t, &vtt), YTC_OK);
    EXPECT(ytc_transcript_to_json(t, &json), YTC_OK);
    EXPECT(ytc_transcript_to_txt(t, &txt), YTC_OK);
    CHECK(srt && strncmp(srt, "1\n00:00:00,", 11) == 0 && strncmp(srt + 14, " --> ", 5) == 0,
          "srt: %s", srt);
    CHECK(vtt && strncmp(vtt, "WEBVTT", 6) == 0 && strstr(vtt, " --> "), "vtt: %s", vtt);
    CHECK(json && json[0] == '{' && strstr(json, "\"segments\"") && strstr(json, "\"tiny.en\""),
          "json: %.80s", json);
    CHECK(txt && strstr(txt, "fellow Americans"), "txt: %s", txt);
    EXPECT(ytc_transcript_render(t, "vtt", &again), YTC_OK);
    CHECK(again && vtt && strcmp(again, vtt) == 0, "render(vtt) equals to_vtt");
    ytc_string_free(again);
    again = SENTINEL;
    EXPECT(ytc_transcript_render(t, "docx", &again), YTC_INVALID_INPUT);
    CHECK((void *)again == SENTINEL, "out written by a failed render");
    ytc_string_free(srt);
    ytc_string_free(vtt);
    ytc_string_free(json);
    ytc_string_free(txt);
}

/* A real bad input for each status one-shot transcription can return. */
static void check_bad_inputs(ytc_pipeline *p, const ctx *c) {
    ytc_transcript *t = SENTINEL;
    EXPECT(ytc_transcribe(p, c->missing, "en", &t), YTC_INPUT_NOT_FOUND);
    CHECK(strstr(last_message(), "does-not-exist.wav") != NULL, "message: %s", last_error);
    EXPECT(ytc_transcribe(p, c->empty, "en", &t), YTC_EMPTY_INPUT);
    EXPECT(ytc_transcribe(p, c->text_mp3, "en", &t), YTC_UNSUPPORTED_FORMAT);
    EXPECT(ytc_transcribe(p, c->half_wav, "en", &t), YTC_DECODE_FAILED);
    EXPECT(ytc_transcribe(p, c->ac3_mka, "en", &t), YTC_UNSUPPORTED_CODEC);
    EXPECT(ytc_transcribe(p, c->no_samples_wav, "en", &t), YTC_NO_AUDIO);
    EXPECT(ytc_transcribe(p, c->jfk, "klingon", &t), YTC_INVALID_INPUT);
    EXPECT(ytc_transcribe(p, c->jfk, "es", &t), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "English-only") != NULL, "message: %s", last_error);
    EXPECT(ytc_transcribe(p, "ftp://example.com/a.wav", "en", &t), YTC_INVALID_INPUT);
    EXPECT(ytc_transcribe(p, "", NULL, &t), YTC_INVALID_INPUT);

    ytc_request *r = ytc_request_new();
    EXPECT(ytc_request_set_language(r, "klingon"), YTC_INVALID_INPUT);
    EXPECT(ytc_request_set_priority(r, "urgent"), YTC_INVALID_INPUT);
    EXPECT(ytc_request_set_language(r, "english"), YTC_OK);
    EXPECT(ytc_request_set_beam_size(r, 0), YTC_OK); /* checked when used */
    EXPECT(ytc_transcribe_with(p, c->jfk, r, &t), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "beam_size") != NULL, "message: %s", last_error);
    EXPECT(ytc_request_set_beam_size(r, 1), YTC_OK);
    EXPECT(ytc_request_set_temperature(r, 3.0f), YTC_OK);
    EXPECT(ytc_transcribe_with(p, c->jfk, r, &t), YTC_INVALID_INPUT);
    ytc_request_free(r);

    /* The same through the generic setter: any field by name, from its text form. */
    r = ytc_request_new();
    EXPECT(ytc_request_set(r, "no_such", "1"), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "no_such") != NULL, "message: %s", last_error);
    EXPECT(ytc_request_set(r, "best_of", "five"), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "best_of") != NULL, "message: %s", last_error);
    EXPECT(ytc_request_set(r, "language", "klingon"), YTC_INVALID_INPUT);
    EXPECT(ytc_request_set(r, "priority", "urgent"), YTC_INVALID_INPUT);
    EXPECT(ytc_request_set(r, "language", "en"), YTC_OK);
    EXPECT(ytc_request_set(r, "beam_size", "0"), YTC_OK); /* checked when used */
    EXPECT(ytc_transcribe_with(p, c->jfk, r, &t), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "beam_size") != NULL, "message: %s", last_error);
    char id[YTC_JOB_ID_SIZE] = "untouched";
    EXPECT(ytc_submit_with(p, c->jfk, r, id, sizeof id), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "beam_size") != NULL, "message: %s", last_error);
    CHECK(strcmp(id, "untouched") == 0, "job id written by a failed submit");
    EXPECT(ytc_request_set(r, "beam_size", ""), YTC_OK); /* empty: back to the default */
    EXPECT(ytc_request_set(r, "temperature", "1.5"), YTC_OK);
    EXPECT(ytc_transcribe_with(p, c->jfk, r, &t), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "temperature") != NULL, "message: %s", last_error);
    ytc_request_free(r);
    CHECK(t == SENTINEL, "out written by a failed transcription");
}

static void check_jobs(ytc_pipeline *p, const ctx *c) {
    char a[YTC_JOB_ID_SIZE], b[YTC_JOB_ID_SIZE], failed[YTC_JOB_ID_SIZE];
    ytc_transcript *t = SENTINEL;
    const char *status = NULL;

    /* A runs on the one worker; B waits behind it and is cancelled while pending. */
    EXPECT(ytc_submit(p, c->jfk, "en", a, sizeof a), YTC_OK);
    EXPECT(ytc_submit(p, c->jfk, NULL, b, sizeof b), YTC_OK);
    CHECK(strlen(a) == 36 && strlen(b) == 36 && strcmp(a, b) != 0, "ids %s %s", a, b);
    EXPECT(ytc_cancel(p, b), YTC_OK);
    EXPECT(ytc_wait(p, b, 0, &t), YTC_CANCELLED);
    EXPECT(ytc_job_status(p, b, &status), YTC_OK);
    CHECK(status && strcmp(status, "cancelled") == 0, "status of B: %s", status);
    EXPECT(ytc_cancel(p, b), YTC_ILLEGAL_TRANSITION);

    EXPECT(ytc_wait(p, a, 1, &t), YTC_TIMEOUT);
    EXPECT(ytc_job_status(p, a, &status), YTC_OK);
    CHECK(status && strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0,
          "status of A while running: %s", status);
    EXPECT(ytc_result(p, a, &t), YTC_INVALID_INPUT); /* not completed yet */
    CHECK(t == SENTINEL, "out written by failed calls");

    EXPECT(ytc_wait(p, a, 600000, &t), YTC_OK);
    if (t != SENTINEL) {
        CHECK(strcmp(ytc_transcript_job_id(t), a) == 0, "job id %s", ytc_transcript_job_id(t));
        check_transcript(t, c, "ytc_wait");
        ytc_transcript *stored = NULL;
        EXPECT(ytc_result(p, a, &stored), YTC_OK);
        CHECK(stored && strcmp(ytc_transcript_text(stored), ytc_transcript_text(t)) == 0,
              "result equals the waited transcript");
        ytc_transcript_free(stored);
        ytc_transcript_free(t);
        t = SENTINEL;
    }
    EXPECT(ytc_job_status(p, a, &status), YTC_OK);
    CHECK(status && strcmp(status, "completed") == 0, "status of A: %s", status);
    EXPECT(ytc_cancel(p, a), YTC_ILLEGAL_TRANSITION);

    char *json = NULL;
    EXPECT(ytc_job_json(p, a, &json), YTC_OK);
    CHECK(json && strstr(json, "\"status\":\"completed\"") && strstr(json, a), "job: %s", json);
    ytc_string_free(json);
    json = NULL;
    EXPECT(ytc_job_events_json(p, a, &json), YTC_OK);
    CHECK(json && json[0] == '[' && strstr(json, "\"job_created\"") &&
              strstr(json, "\"transcription_completed\""),
          "events: %.200s", json);
    ytc_string_free(json);
    json = NULL;
    EXPECT(ytc_jobs_json(p, "completed", 0, &json), YTC_OK);
    CHECK(json && strstr(json, a) && !strstr(json, b), "completed jobs: %.200s", json);
    ytc_string_free(json);
    json = NULL;
    EXPECT(ytc_jobs_json(p, NULL, 1, &json), YTC_OK);
    CHECK(json && strstr(json, b) && !strstr(json, a), "newest job: %.200s", json);
    ytc_string_free(json);
    char *unchanged = SENTINEL;
    EXPECT(ytc_jobs_json(p, "finished", 0, &unchanged), YTC_INVALID_INPUT);
    CHECK((void *)unchanged == SENTINEL, "out written by a failed call");

    /* A bad input fails the job, not the submission; wait reports job_failed with its code. */
    EXPECT(ytc_submit(p, c->missing, "en", failed, sizeof failed), YTC_INPUT_NOT_FOUND);
    EXPECT(ytc_submit(p, c->empty, "en", failed, sizeof failed), YTC_OK);
    EXPECT(ytc_wait(p, failed, 0, &t), YTC_JOB_FAILED);
    CHECK(strstr(last_message(), "[empty_input]") != NULL, "message: %s", last_error);
    EXPECT(ytc_submit(p, c->jfk, "klingon", failed, sizeof failed), YTC_INVALID_INPUT);

    /* Unknown and malformed ids. */
    const char *unknown = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    EXPECT(ytc_wait(p, unknown, 1000, &t), YTC_JOB_NOT_FOUND);
    EXPECT(ytc_cancel(p, unknown), YTC_JOB_NOT_FOUND);
    EXPECT(ytc_result(p, unknown, &t), YTC_JOB_NOT_FOUND);
    EXPECT(ytc_job_status(p, unknown, &status), YTC_JOB_NOT_FOUND);
    EXPECT(ytc_wait(p, "not-a-job-id", 1000, &t), YTC_INVALID_INPUT);
    CHECK(t == SENTINEL, "out written by failed calls");

    /* Requests: idempotency keys return the first job; bad webhook URLs are refused. */
    ytc_request *r = ytc_request_new();
    char k1[YTC_JOB_ID_SIZE], k2[YTC_JOB_ID_SIZE];
    EXPECT(ytc_request_set_priority(r, "high"), YTC_OK);
    EXPECT(ytc_request_set_idempotency_key(r, "upload-42"), YTC_OK);
    EXPECT(ytc_request_set_requested_by(r, "test_ytcaption.c"), YTC_OK);
    EXPECT(ytc_submit_with(p, c->empty, r, k1, sizeof k1), YTC_OK);
    EXPECT(ytc_submit_with(p, c->empty, r, k2, sizeof k2), YTC_OK);
    CHECK(strcmp(k1, k2) == 0, "idempotent submissions: %s %s", k1, k2);
    EXPECT(ytc_job_json(p, k1, &json), YTC_OK);
    CHECK(json && strstr(json, "\"priority\":\"high\"") && strstr(json, "test_ytcaption.c"),
          "job: %s", json);
    ytc_string_free(json);
    EXPECT(ytc_wait(p, k1, 0, &t), YTC_JOB_FAILED);
    EXPECT(ytc_request_set_webhook_url(r, "ftp://example.com/hook"), YTC_OK);
    EXPECT(ytc_submit_with(p, c->empty, r, k2, sizeof k2), YTC_WEBHOOK_REFUSED);
    /* Not a public address (cloud metadata): refused unless allowlisted. */
    EXPECT(ytc_request_set_webhook_url(r, "http://169.254.169.254/hook"), YTC_OK);
    EXPECT(ytc_submit_with(p, c->empty, r, k2, sizeof k2), YTC_WEBHOOK_REFUSED);
    ytc_request_free(r);

    /* The callback saw A's lifecycle and B's cancellation, on a library thread. */
    CHECK(eventually_saw(&rec_a, "transcription_completed", a), "completed event of A");
    CHECK(saw(&rec_a, "job_created", a) && saw(&rec_a, "transcription_started", a),
          "A's events");
    CHECK(eventually_saw(&rec_a, "job_cancelled", b), "cancelled event of B");
    CHECK(eventually_saw(&rec_a, "transcription_failed", failed), "failed event");
}

static void check_callbacks_replaced_and_cleared(ytc_pipeline *p, const ctx *c) {
    /* Replace A by B: once the call returns, A gets nothing more. */
    rec_b.caller = pthread_self();
    EXPECT(ytc_pipeline_set_event_callback(p, on_event_b, &rec_b), YTC_OK);
    int a_before = event_count(&rec_a);
    char id[YTC_JOB_ID_SIZE];
    ytc_transcript *t = NULL;
    EXPECT(ytc_submit(p, c->empty, "en", id, sizeof id), YTC_OK);
    EXPECT(ytc_wait(p, id, 0, &t), YTC_JOB_FAILED);
    CHECK(eventually_saw(&rec_b, "transcription_failed", id), "new callback gets events");
    CHECK(event_count(&rec_a) == a_before, "the replaced callback was called again");

    /* Clear it: nobody is called. */
    EXPECT(ytc_pipeline_set_event_callback(p, NULL, NULL), YTC_OK);
    int b_before = event_count(&rec_b);
    EXPECT(ytc_submit(p, c->empty, "en", id, sizeof id), YTC_OK);
    EXPECT(ytc_wait(p, id, 0, &t), YTC_JOB_FAILED);
    sleep_ms(300);
    CHECK(event_count(&rec_b) == b_before && event_count(&rec_a) == a_before,
          "a cleared callback was called");
    EXPECT(ytc_pipeline_set_event_callback(p, NULL, NULL), YTC_OK); /* clearing twice is fine */

    /* Set it again, then free the pipeline while events flow: after free returns, no call. */
    EXPECT(ytc_pipeline_set_event_callback(p, on_event_b, &rec_b), YTC_OK);
    EXPECT(ytc_submit(p, c->empty, "en", id, sizeof id), YTC_OK);
}

static void check_engine(const ctx *c) {
    ytc_options *o = ytc_options_new();
    ytc_engine *e = SENTINEL;
    char model_dir[4096];
    snprintf(model_dir, sizeof model_dir, "%s/nowhere/ggml-none.bin", c->work);
    EXPECT(ytc_options_set_model(o, model_dir), YTC_OK);
    EXPECT(ytc_engine_open(o, &e), YTC_MODEL_NOT_FOUND);
    CHECK(e == SENTINEL, "out written by a failed open");

    /* A file that is not a model: found, and refused when first used. */
    EXPECT(ytc_options_set_model(o, c->bad_model), YTC_OK);
    EXPECT(ytc_engine_open(o, &e), YTC_OK);
    ytc_transcript *t = SENTINEL;
    EXPECT(ytc_engine_transcribe(e, c->jfk, "en", &t), YTC_MODEL_INVALID);
    ytc_engine_free(e);

    EXPECT(ytc_options_set_model(o, c->model), YTC_OK);
    EXPECT(ytc_options_set_threads(o, c->threads), YTC_OK);
    e = NULL;
    EXPECT(ytc_engine_open(o, &e), YTC_OK);
    ytc_options_free(o); /* options are only read by open */
    EXPECT(ytc_engine_set_event_callback(e, on_event_a, &rec_a), YTC_OK);
    EXPECT(ytc_engine_transcribe(e, c->missing, "en", &t), YTC_INPUT_NOT_FOUND);
    CHECK(t == SENTINEL, "out written by a failed transcription");
    ytc_request *r = ytc_request_new();
    EXPECT(ytc_request_set_language(r, "en"), YTC_OK);
    t = NULL;
    EXPECT(ytc_engine_transcribe_with(e, c->jfk, r, &t), YTC_OK);
    ytc_request_free(r);
    if (t) {
        check_transcript(t, c, "ytc_engine_transcribe_with");
        CHECK(eventually_saw(&rec_a, "transcription_started", ytc_transcript_job_id(t)),
              "engine events");
        ytc_transcript_free(t);
    }
    ytc_engine_free(e);

    /* Settings by name, from their text form: checked by the core, messages name the field. */
    o = ytc_options_new();
    EXPECT(ytc_options_set(o, "no_such", "1"), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "no_such") != NULL, "message: %s", last_error);
    EXPECT(ytc_options_set(o, "threads", "many"), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "threads") != NULL, "message: %s", last_error);
    EXPECT(ytc_options_set(o, "cache", "maybe"), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "cache") != NULL, "message: %s", last_error);
    EXPECT(ytc_options_set_chunk_seconds(o, INFINITY), YTC_INVALID_INPUT); /* 0 is no chunking */
    CHECK(strstr(last_message(), "chunk_seconds") != NULL, "message: %s", last_error);
    EXPECT(ytc_options_set(o, "model", c->model), YTC_OK);
    EXPECT(ytc_options_set(o, "threads", "1"), YTC_OK);
    EXPECT(ytc_options_set(o, "parallel_chunks", "65"), YTC_OK); /* checked when opened */
    e = SENTINEL;
    EXPECT(ytc_engine_open(o, &e), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "parallel_chunks") != NULL, "message: %s", last_error);
    CHECK(e == SENTINEL, "out written by a failed open");
    EXPECT(ytc_options_set(o, "parallel_chunks", "0"), YTC_OK); /* automatic */
    EXPECT(ytc_options_set(o, "chunk_seconds", "1"), YTC_OK);
    EXPECT(ytc_engine_open(o, &e), YTC_INVALID_INPUT);
    CHECK(strstr(last_message(), "chunk_seconds") != NULL, "message: %s", last_error);
    CHECK(e == SENTINEL, "out written by a failed open");
    /* 5 s chunks, then 0: the whole input as one chunk. */
    EXPECT(ytc_options_set_chunk_seconds(o, 5.0), YTC_OK);
    EXPECT(ytc_options_set(o, "chunk_seconds", "0"), YTC_OK);
    EXPECT(ytc_options_set(o, "vad_model", ""), YTC_OK); /* empty: the default */
    e = NULL;
    EXPECT(ytc_engine_open(o, &e), YTC_OK);
    ytc_options_free(o);
    rec_c.caller = pthread_self();
    EXPECT(ytc_engine_set_event_callback(e, on_event_c, &rec_c), YTC_OK);
    r = ytc_request_new();
    EXPECT(ytc_request_set(r, "language", "en"), YTC_OK);
    EXPECT(ytc_request_set(r, "temperature_increment", "0.2"), YTC_OK);
    t = NULL;
    EXPECT(ytc_engine_transcribe_with(e, c->jfk, r, &t), YTC_OK);
    ytc_request_free(r);
    if (t) {
        check_transcript(t, c, "chunk_seconds 0");
        const char *job = ytc_transcript_job_id(t);
        CHECK(eventually_saw(&rec_c, "chunk_transcribed", job), "chunk events");
        sleep_ms(500); /* every chunk's event was published before the call returned */
        CHECK(count_of(&rec_c, "chunk_transcribed", job) == 1, "%d chunks with chunk_seconds 0",
              count_of(&rec_c, "chunk_transcribed", job));
        ytc_transcript_free(t);
    }
    ytc_engine_free(e);
    CHECK(rec_c.malformed == 0 && rec_c.wrong_userdata == 0 && rec_c.on_caller_thread == 0,
          "engine events: %d malformed, %d wrong userdata, %d on the caller's thread",
          rec_c.malformed, rec_c.wrong_userdata, rec_c.on_caller_thread);

    /* Chunks of about 5 s, two at a time, with word timings. */
    o = ytc_options_new();
    EXPECT(ytc_options_set_model(o, c->model), YTC_OK);
    EXPECT(ytc_options_set_threads(o, 1), YTC_OK);
    EXPECT(ytc_options_set_parallel_chunks(o, 2), YTC_OK);
    EXPECT(ytc_options_set_chunk_seconds(o, 5.0), YTC_OK);
    EXPECT(ytc_options_set_chunk_retries(o, 1), YTC_OK);
    e = NULL;
    EXPECT(ytc_engine_open(o, &e), YTC_OK);
    ytc_options_free(o);
    EXPECT(ytc_engine_set_event_callback(e, on_event_a, &rec_a), YTC_OK);
    r = ytc_request_new();
    EXPECT(ytc_request_set_language(r, "en"), YTC_OK);
    EXPECT(ytc_request_set_word_timestamps(r, true), YTC_OK);
    EXPECT(ytc_request_set_condition_on_previous_text(r, false), YTC_OK);
    t = NULL;
    EXPECT(ytc_engine_transcribe_with(e, c->jfk, r, &t), YTC_OK);
    ytc_request_free(r);
    if (t) {
        CHECK(wer(c->reference, ytc_transcript_text(t)) <= 0.1, "chunked text: %s",
              ytc_transcript_text(t));
        CHECK(eventually_saw(&rec_a, "chunk_transcribed", ytc_transcript_job_id(t)),
              "chunk events");
        sleep_ms(500);
        CHECK(count_of(&rec_a, "chunk_transcribed", ytc_transcript_job_id(t)) >= 2,
              "%d chunks of 5 s in 11 s", count_of(&rec_a, "chunk_transcribed",
                                                    ytc_transcript_job_id(t)));
        size_t words = 0;
        int found = 0;
        size_t n = ytc_transcript_segment_count(t);
        ytc_segment seg;
        ytc_word w;
        for (size_t i = 0; i < n; i++) {
            EXPECT(ytc_transcript_segment(t, i, &seg), YTC_OK);
            for (size_t j = 0; j < seg.word_count; j++) {
                EXPECT(ytc_transcript_word(t, i, j, &w), YTC_OK);
                CHECK(w.start >= seg.start - 0.5 && w.start <= w.end && w.end <= seg.end + 0.5,
                      "word %zu of segment %zu: %.2f-%.2f in %.2f-%.2f", j, i, w.start, w.end,
                      seg.start, seg.end);
                CHECK(w.probability >= 0.0f && w.probability <= 1.0f && w.text && *w.text,
                      "word %zu of segment %zu", j, i);
                if (strstr(w.text, "country")) found = 1;
                words++;
            }
            EXPECT(ytc_transcript_word(t, i, seg.word_count, &w), YTC_INDEX_OUT_OF_RANGE);
        }
        EXPECT(ytc_transcript_word(t, n, 0, &w), YTC_INDEX_OUT_OF_RANGE);
        CHECK(words >= 15 && found, "%zu words, \"country\" among them: %d", words, found);
        ytc_transcript_free(t);
    }
    ytc_engine_free(e);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL FIXTURES_DIR WORKDIR CLI_TXT THREADS\n", argv[0]);
        return 2;
    }
    started = now();
    ctx c = {.model = argv[1], .fixtures = argv[2], .work = argv[3]};
    c.threads = (size_t)strtoul(argv[5], NULL, 10);
    snprintf(c.jfk, sizeof c.jfk, "%s/en_jfk.wav", c.fixtures);
    c.reference = reference_text(c.fixtures, "en_jfk.wav");
    char *cli_text = read_file(argv[4]);
    if (!c.reference || !cli_text) {
        fprintf(stderr, "cannot read the reference text or %s\n", argv[4]);
        return 2;
    }
    c.cli_wer = wer(c.reference, cli_text);
    free(cli_text);
    make_bad_inputs(&c);

    phase("statics");
    check_statics();
    phase("NULL arguments");
    check_null_arguments();

    /* Pipelines: the missing model, then the real one; a second one on the home is locked. */
    ytc_options *o = ytc_options_new();
    ytc_pipeline *p = SENTINEL;
    EXPECT(ytc_options_set_home(o, c.home), YTC_OK);
    EXPECT(ytc_options_set_model(o, c.missing), YTC_OK);
    EXPECT(ytc_pipeline_open(o, &p), YTC_MODEL_NOT_FOUND);
    CHECK(p == SENTINEL, "out written by a failed open");
    EXPECT(ytc_options_set_model(o, c.model), YTC_OK);
    EXPECT(ytc_options_set_workers(o, 1), YTC_OK);
    EXPECT(ytc_options_set_threads(o, c.threads), YTC_OK);
    EXPECT(ytc_options_set_max_attempts(o, 2), YTC_OK);
    p = NULL;
    EXPECT(ytc_pipeline_open(o, &p), YTC_OK);
    if (!p || p == SENTINEL) {
        fprintf(stderr, "cannot open a pipeline: %s\n", last_message());
        return 1;
    }
    ytc_pipeline *second = SENTINEL;
    EXPECT(ytc_pipeline_open(o, &second), YTC_JOURNAL_LOCKED);
    CHECK(second == SENTINEL, "out written by a failed open");

    rec_a.caller = pthread_self();
    EXPECT(ytc_pipeline_set_event_callback(p, on_event_a, &rec_a), YTC_OK);

    phase("one-shot transcription");
    ytc_transcript *t = NULL;
    EXPECT(ytc_transcribe(p, c.jfk, "en", &t), YTC_OK);
    if (t) {
        check_transcript(t, &c, "ytc_transcribe");
        CHECK(eventually_saw(&rec_a, "transcription_started", ytc_transcript_job_id(t)),
              "one-shot events");
        check_interface_statuses(p, t, &c);
        ytc_transcript_free(t);
    }
    phase("bad inputs");
    check_bad_inputs(p, &c);
    CHECK(eventually_saw(&rec_a, "transcription_failed", NULL), "one-shot failure events");
    phase("jobs");
    check_jobs(p, &c);
    phase("callbacks replaced and cleared");
    check_callbacks_replaced_and_cleared(p, &c);

    phase("pipeline freed");
    ytc_pipeline_free(p);
    int after_free = event_count(&rec_b);
    sleep_ms(300);
    CHECK(event_count(&rec_b) == after_free, "callback called after ytc_pipeline_free");

    /* The home is free again once the pipeline is: jobs survive in the journal. */
    p = NULL;
    EXPECT(ytc_options_set_workers(o, 0), YTC_OK);
    EXPECT(ytc_pipeline_open(o, &p), YTC_OK);
    char *jobs = NULL;
    EXPECT(ytc_jobs_json(p, "completed", 0, &jobs), YTC_OK);
    CHECK(jobs && strstr(jobs, "\"completed\""), "jobs after reopening: %.200s", jobs);
    ytc_string_free(jobs);
    ytc_pipeline_free(p);
    ytc_options_free(o);

    phase("engine");
    check_engine(&c);

    for (recorder *r = &rec_a; r; r = r == &rec_a ? &rec_b : NULL) {
        CHECK(r->count > 0, "events delivered");
        CHECK(r->malformed == 0, "%d malformed events", r->malformed);
        CHECK(r->wrong_userdata == 0, "%d events with the wrong userdata", r->wrong_userdata);
        CHECK(r->on_caller_thread == 0, "%d events on the caller's thread", r->on_caller_thread);
    }
    printf("events: %d + %d delivered\n", rec_a.count, rec_b.count);

    free(c.reference);
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
