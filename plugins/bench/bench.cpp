// The "bench" plugin: the tutorial's functions without sleeps, plus the helpers that tests
// and benchmarks need (deterministic failures, cooperative sleeps, a gate that holds tasks
// pending, log and progress output). Bodies are trivial on purpose: benchmarks measure the
// engine's overhead, not the work (see shared/bench/WORKLOADS.md).
#include <taskbench/sdk.h>

#include <cstdio>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using taskbench::sdk::TaskContext;
using taskbench::sdk::TaskException;
using namespace std::chrono_literals;

[[noreturn]] void throwCancelled()
{
    throw TaskException("CancelledError", "the task was cancelled");
}

/// Sleeps in slices of at most 10 ms, throwing once the task is cancelled.
void sleepFor(TaskContext &ctx, std::chrono::milliseconds duration)
{
    const auto deadline = std::chrono::steady_clock::now() + duration;
    for (;;) {
        if (ctx.cancelled())
            throwCancelled();
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline)
            return;
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(deadline - now, 10ms));
    }
}

std::chrono::milliseconds checkedMs(std::int64_t ms)
{
    if (ms < 0)
        throw TaskException("ValueError", "ms must be >= 0, got " + std::to_string(ms));
    return std::chrono::milliseconds(ms);
}

std::int64_t checkedAdd(std::int64_t a, std::int64_t b)
{
    std::int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw TaskException("OverflowError",
                            std::to_string(a) + " + " + std::to_string(b) + " overflows int64");
    return out;
}

std::int64_t inc(std::int64_t x)
{
    return checkedAdd(x, 1);
}

std::int64_t add(std::int64_t x, std::int64_t y)
{
    return checkedAdd(x, y);
}

std::int64_t doubleIt(std::int64_t x)
{
    std::int64_t out = 0;
    if (__builtin_mul_overflow(x, 2, &out))
        throw TaskException("OverflowError", "2 * " + std::to_string(x) + " overflows int64");
    return out;
}

std::int64_t sum(const std::vector<std::int64_t> &values)
{
    std::int64_t total = 0;
    for (std::int64_t v : values)
        total = checkedAdd(total, v);
    return total;
}

void noop() {}

/// WORKLOADS.md "retries": exclusive creation of marker_dir/<i> makes "first attempt" exact
/// across threads and processes, whichever worker runs the retry.
std::int64_t flakyInc(std::int64_t i, const std::string &markerDir)
{
    if (i % 5 == 0) {
        const std::string marker = markerDir + "/" + std::to_string(i);
        const int fd = ::open(marker.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::close(fd);
            throw TaskException("ValueError", "You hit the error!");
        }
        if (errno != EEXIST)
            throw TaskException("IOError", marker + ": " + std::strerror(errno));
    }
    return checkedAdd(i, 1);
}

std::int64_t flakyIncDet(std::int64_t i, TaskContext &ctx)
{
    if (i % 5 == 0 && ctx.attempt() == 1)
        throw TaskException("ValueError", "You hit the error!");
    return checkedAdd(i, 1);
}

void sleepMs(std::int64_t ms, TaskContext &ctx)
{
    sleepFor(ctx, checkedMs(ms));
}

std::int64_t slowInc(std::int64_t x, std::int64_t ms, TaskContext &ctx)
{
    sleepFor(ctx, checkedMs(ms));
    return checkedAdd(x, 1);
}

void fail(const std::string &message)
{
    throw TaskException("RuntimeError", message);
}

/// Holds the task until `path` exists, polling every 10 ms (a pending-but-running task for
/// memory benchmarks with many queued futures).
void gate(const std::string &path, TaskContext &ctx)
{
    struct stat st;
    while (::stat(path.c_str(), &st) != 0) {
        if (ctx.cancelled())
            throwCancelled();
        std::this_thread::sleep_for(10ms);
    }
}

std::int64_t logAndProgress(std::int64_t n, TaskContext &ctx)
{
    if (n < 0)
        throw TaskException("ValueError", "n must be >= 0, got " + std::to_string(n));
    for (std::int64_t i = 1; i <= n; ++i) {
        if (ctx.cancelled())
            throwCancelled();
        const std::string step = std::to_string(i) + "/" + std::to_string(n);
        ctx.log("log line " + step);
        ctx.progress(double(i) / double(n), step);
    }
    return n;
}

/// Makes `mb` MiB resident (every page written), frees it and returns mb: a known peak for
/// the per-attempt memory figures.
std::int64_t touchMemory(std::int64_t mb)
{
    if (mb < 0 || mb > 64 * 1024)
        throw taskbench::sdk::TaskException("ValueError", "mb must be in 0..65536");
    const std::size_t size = std::size_t(mb) << 20;
    // volatile: the compiler may not drop an allocation nobody reads.
    volatile char *p = static_cast<volatile char *>(std::malloc(size));
    if (!p && size > 0)
        throw taskbench::sdk::TaskException("MemoryError",
                                            "cannot allocate " + std::to_string(mb) + " MiB");
    for (std::size_t i = 0; i < size; i += 4096)
        p[i] = char(i >> 12);
    std::free(const_cast<char *>(p));
    return mb;
}

} // namespace

TASKBENCH_PLUGIN("bench", "1.0", "Tutorial functions without sleeps, for tests and benchmarks")
{
    using taskbench::sdk::Param;
    plugin.def("inc", &inc, {"x"}, "Return x + 1.");
    plugin.def("add", &add, {"x", "y"}, "Return x + y.");
    plugin.def("double", &doubleIt, {"x"}, "Return 2 * x.");
    plugin.def("sum", &sum, {"values"}, "Return the sum of a list of ints.");
    plugin.def("noop", &noop, {}, "Do nothing and return null (engine overhead benchmarks).");
    plugin.def("touch_memory",
               &touchMemory,
               {"mb"},
               "Make mb MiB resident (write every page), free it and return mb.");
    plugin.def(
        "text_of",
        [](std::int64_t n) {
            if (n < 0 || n > 100'000'000)
                throw taskbench::sdk::TaskException("ValueError", "n must be in 0..100000000");
            return std::string(std::size_t(n), 'x');
        },
        {"n"},
        "Return a string of n 'x' characters (a result of known size).");
    plugin.def("flaky_inc",
               &flakyInc,
               {"i", "marker_dir"},
               "Return i + 1; when i % 5 == 0 the first attempt fails with ValueError(\"You hit "
               "the error!\"). The first attempt is the one that creates marker_dir/<i> "
               "exclusively (O_CREAT|O_EXCL), exact across threads and processes.");
    plugin.def("flaky_inc_det",
               &flakyIncDet,
               {"i"},
               "Return i + 1; when i % 5 == 0 the first attempt (attempt 1) fails with "
               "ValueError(\"You hit the error!\"), retries succeed.");
    plugin.def("sleep_ms",
               &sleepMs,
               {"ms"},
               "Sleep ms milliseconds, stopping within 10 ms when cancelled; return null.");
    plugin.def("slow_inc",
               &slowInc,
               {"x", Param("ms", 100)},
               "Sleep ms milliseconds (cooperatively), then return x + 1.");
    plugin.def("fail",
               &fail,
               {Param("message", "fail() always fails")},
               "Always fail with RuntimeError(message).");
    plugin.def("gate",
               &gate,
               {"path"},
               "Wait until the file at path exists (polling every 10 ms, cancellable); return "
               "null. Holds tasks running for pending-futures benchmarks.");
    plugin.def("log_and_progress",
               &logAndProgress,
               {"n"},
               "Write n log lines through the task context, reporting progress i/n after each; "
               "return n.");
    plugin.def(
        "range_list",
        [](std::int64_t n) {
            if (n < 0 || n > 100'000'000)
                throw taskbench::sdk::TaskException("ValueError", "n must be in 0..100000000");
            std::vector<std::int64_t> out(static_cast<std::size_t>(n));
            for (std::int64_t i = 0; i < n; ++i)
                out[static_cast<std::size_t>(i)] = i;
            return out;
        },
        {"n"},
        "Return the list [0, 1, ..., n-1] (a large result that stays on its worker).");
    plugin.def(
        "print",
        [](const std::string &text) {
            std::printf("%s\n", text.c_str());
            std::fprintf(stderr, "stderr: %s\n", text.c_str());
            return text;
        },
        {"text"},
        "Print text to stdout and stderr (captured per task by process workers); return it.");
}
