/*
 * transcribe: a media file to SRT (or VTT, JSON, TXT) on stdout, progress on stderr, with the
 * ytcaption C API.
 *
 *   transcribe [-H HOME] [-m MODEL] [-l LANG] [-f srt|vtt|json|txt] [-t THREADS] [-j] INPUT
 *
 * -j runs the input as a durable job (submit, then wait) instead of a one-shot transcription.
 *
 * Build (after `bindings/c/install.sh PREFIX`):
 *   cc -std=c11 examples/c/transcribe.c -o transcribe \
 *      $(pkg-config --cflags --libs ytcaption) -Wl,-rpath,PREFIX/lib
 */
#define _POSIX_C_SOURCE 200809L

#include <ytcaption.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Prints the status, its code and this thread's last error message, and exits. */
static void die(const char *what, ytc_status s) {
    char msg[1024];
    ytc_last_error_message(msg, sizeof msg);
    fprintf(stderr, "error: %s: %s [%s]\n", what, msg, ytc_status_code(s));
    exit(1);
}

/* Called on a library thread for every event; `userdata` is the program name. */
static void on_event(const ytc_event *ev, void *userdata) {
    const char *prog = userdata;
    if (strcmp(ev->event_type, "transcription_progress") == 0) {
        fprintf(stderr, "%s: %s\n", prog, ev->data); /* {"percent":..,"processed_seconds":..} */
    } else {
        fprintf(stderr, "%s: %s\n", prog, ev->event_type);
    }
}

int main(int argc, char **argv) {
    const char *home = NULL, *model = NULL, *language = "auto", *format = "srt";
    size_t threads = 0;
    int as_job = 0, opt;
    while ((opt = getopt(argc, argv, "H:m:l:f:t:j")) != -1) {
        switch (opt) {
        case 'H': home = optarg; break;
        case 'm': model = optarg; break;
        case 'l': language = optarg; break;
        case 'f': format = optarg; break;
        case 't': threads = (size_t)strtoul(optarg, NULL, 10); break;
        case 'j': as_job = 1; break;
        default: goto usage;
        }
    }
    if (optind != argc - 1) {
    usage:
        fprintf(stderr,
                "usage: %s [-H HOME] [-m MODEL] [-l LANG] [-f srt|vtt|json|txt] [-t THREADS] "
                "[-j] INPUT\n",
                argv[0]);
        return 2;
    }
    const char *input = argv[optind];

    ytc_options *options = ytc_options_new();
    ytc_status s;
    if (home && (s = ytc_options_set_home(options, home)) != YTC_OK) die("home", s);
    if (model && (s = ytc_options_set_model(options, model)) != YTC_OK) die("model", s);
    if ((s = ytc_options_set_threads(options, threads)) != YTC_OK) die("threads", s);

    ytc_pipeline *pipeline = NULL;
    if ((s = ytc_pipeline_open(options, &pipeline)) != YTC_OK) die("opening the pipeline", s);
    ytc_options_free(options);
    ytc_pipeline_set_event_callback(pipeline, on_event, argv[0]);

    ytc_transcript *transcript = NULL;
    if (as_job) {
        char id[YTC_JOB_ID_SIZE];
        if ((s = ytc_submit(pipeline, input, language, id, sizeof id)) != YTC_OK) die(input, s);
        fprintf(stderr, "%s: job %s\n", argv[0], id);
        if ((s = ytc_wait(pipeline, id, 0 /* no timeout */, &transcript)) != YTC_OK) die(id, s);
    } else if ((s = ytc_transcribe(pipeline, input, language, &transcript)) != YTC_OK) {
        die(input, s);
    }

    char *out = NULL;
    if ((s = ytc_transcript_render(transcript, format, &out)) != YTC_OK) die(format, s);
    fputs(out, stdout);
    fprintf(stderr, "%s: %zu segments, %.1f s of audio in %.1f s\n", argv[0],
            ytc_transcript_segment_count(transcript), ytc_transcript_duration_seconds(transcript),
            ytc_transcript_processing_seconds(transcript));

    ytc_string_free(out);
    ytc_transcript_free(transcript);
    ytc_pipeline_free(pipeline); /* stops the callback, then the workers */
    return 0;
}
