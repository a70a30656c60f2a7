// The header from C++: compiles with `c++ -std=c++17 -Wall -Werror`, links against the library
// and runs a few calls that need no model (RAII handles, a lambda callback, statuses).
#include <ytcaption.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

static_assert(YTC_OK == 0, "YTC_OK is 0");
static_assert(YTC_INVALID_INPUT == 100, "core statuses start at 100");
static_assert(YTC_JOB_ID_SIZE == 37, "36 characters and a NUL");

namespace {

struct OptionsDeleter {
    void operator()(ytc_options *o) const { ytc_options_free(o); }
};
struct PipelineDeleter {
    void operator()(ytc_pipeline *p) const { ytc_pipeline_free(p); }
};
struct TranscriptDeleter {
    void operator()(ytc_transcript *t) const { ytc_transcript_free(t); }
};
using options_ptr = std::unique_ptr<ytc_options, OptionsDeleter>;
using pipeline_ptr = std::unique_ptr<ytc_pipeline, PipelineDeleter>;
using transcript_ptr = std::unique_ptr<ytc_transcript, TranscriptDeleter>;

std::string last_error() {
    std::string msg(ytc_last_error_message(nullptr, 0) + 1, '\0');
    msg.resize(ytc_last_error_message(&msg[0], msg.size()));
    return msg;
}

int failures = 0;

void expect(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

}  // namespace

int main(int argc, char **argv) {
    expect(std::strcmp(ytc_status_code(YTC_TIMEOUT), "timeout") == 0, "timeout code");
    expect(std::strcmp(ytc_version(), "0.1.0") == 0, "version");

    options_ptr options(ytc_options_new());
    expect(ytc_options_set_workers(options.get(), 0) == YTC_OK, "set workers");
    ytc_pipeline *raw = nullptr;
    expect(ytc_pipeline_open(nullptr, &raw) == YTC_NULL_ARGUMENT && raw == nullptr, "NULL");
    expect(last_error() == "argument `options` is NULL", "message");

    // With a home directory argument: open a pipeline without workers and use it.
    if (argc == 2) {
        expect(ytc_options_set_home(options.get(), argv[1]) == YTC_OK, "set home");
        expect(ytc_pipeline_open(options.get(), &raw) == YTC_OK, "open");
        pipeline_ptr pipeline(raw);
        int events = 0;
        ytc_event_callback cb = [](const ytc_event *, void *userdata) {
            ++*static_cast<int *>(userdata);
        };
        expect(ytc_pipeline_set_event_callback(pipeline.get(), cb, &events) == YTC_OK, "cb");
        ytc_transcript *t = nullptr;
        ytc_status s = ytc_wait(pipeline.get(), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 10, &t);
        transcript_ptr transcript(t);
        expect(s == YTC_JOB_NOT_FOUND && !transcript, "unknown job");
        expect(std::string(ytc_status_code(s)) == "job_not_found", "code");
    }
    std::printf("C++: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
