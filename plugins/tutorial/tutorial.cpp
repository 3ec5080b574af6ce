// The "tutorial" plugin: the toy functions of the Dask futures tutorial, sleeps included, so
// that the workbench shows what the tutorial shows (pending futures turning finished, flaky
// tasks turning error and being retried). Sleeps are cooperative: they wake every 10 ms to
// check for cancellation, so cancelling a task stops it at once instead of after a second.
#include <taskbench/sdk.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using taskbench::sdk::TaskContext;
using taskbench::sdk::TaskException;
using namespace std::chrono_literals;

/// Sleeps like Python's time.sleep, but in slices of at most 10 ms so that cancellation is
/// noticed quickly. A cancelled sleep throws: the task must not return a value it did not
/// compute.
void sleepFor(TaskContext &ctx, std::chrono::milliseconds duration)
{
    const auto deadline = std::chrono::steady_clock::now() + duration;
    for (;;) {
        if (ctx.cancelled())
            throw TaskException("CancelledError", "the task was cancelled");
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline)
            return;
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(deadline - now, 10ms));
    }
}

std::int64_t checkedAdd(std::int64_t a, std::int64_t b)
{
    std::int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out))
        throw TaskException("OverflowError",
                            std::to_string(a) + " + " + std::to_string(b) + " overflows int64");
    return out;
}

std::int64_t inc(std::int64_t x, TaskContext &ctx)
{
    sleepFor(ctx, 1s);
    return checkedAdd(x, 1);
}

std::int64_t doubleIt(std::int64_t x, TaskContext &ctx)
{
    sleepFor(ctx, 2s);
    std::int64_t out = 0;
    if (__builtin_mul_overflow(x, 2, &out))
        throw TaskException("OverflowError", "2 * " + std::to_string(x) + " overflows int64");
    return out;
}

std::int64_t add(std::int64_t x, std::int64_t y, TaskContext &ctx)
{
    sleepFor(ctx, 1s);
    return checkedAdd(x, y);
}

std::int64_t flakyInc(std::int64_t i)
{
    // One generator per thread: tasks run concurrently and std::mt19937_64 is not
    // thread safe; seeding from random_device keeps the failures as random as the tutorial's.
    thread_local std::mt19937_64 generator{std::random_device{}()};
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    if (uniform(generator) < 0.2)
        throw TaskException("ValueError", "You hit the error!");
    return checkedAdd(i, 1);
}

std::int64_t sum(const std::vector<std::int64_t> &values)
{
    std::int64_t total = 0;
    for (std::int64_t v : values)
        total = checkedAdd(total, v);
    return total;
}

} // namespace

TASKBENCH_PLUGIN("tutorial", "1.0", "The Dask futures tutorial's functions, with its sleeps")
{
    plugin.def("inc", &inc, {"x"}, "Return x + 1 after sleeping 1 second (simulated work).");
    plugin.def("double", &doubleIt, {"x"}, "Return 2 * x after sleeping 2 seconds.");
    plugin.def("add", &add, {"x", "y"}, "Return x + y after sleeping 1 second.");
    plugin.def("flaky_inc",
               &flakyInc,
               {"i"},
               "Return i + 1, but fail with ValueError(\"You hit the error!\") with "
               "probability 0.2, like a flaky network call. Map it with retries to succeed.");
    plugin.def("sum",
               &sum,
               {"values"},
               "Return the sum of a list of ints, e.g. of futures: submit(sum, [x, y]).");
}
