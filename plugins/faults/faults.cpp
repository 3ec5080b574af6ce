// The "faults" plugin: misbehaving tasks for process-worker and nanny tests and demos. Each
// function does what a buggy user plugin does (crash, abort, exit, hang, eat memory, throw odd
// things) so that the engine can prove it survives. Most of them take the whole process down
// on purpose: call them only in worker processes, never in-process (tests, GUI, CLI threads).
#include <taskbench/sdk.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using taskbench::sdk::TaskException;
using namespace std::chrono_literals;

/// A non-std exception type: the engine must still report it (as a non-standard exception).
struct NotAnException
{
    int code;
};

void segfault()
{
    // The address comes from a volatile so the compiler cannot see the null store and turn
    // it into a trap instruction (SIGILL): the test wants a real SIGSEGV.
    volatile std::uintptr_t address = 0;
    *reinterpret_cast<volatile int *>(address) = 42;
    std::raise(SIGSEGV); // not reached
}

void abortTask()
{
    std::abort();
}

void exitTask(std::int64_t code)
{
    // _Exit, not exit: running static destructors while other worker threads still run
    // could crash and turn the expected exit code into a signal.
    std::fflush(nullptr);
    std::_Exit(int(code & 0xff));
}

[[noreturn]] void hang(bool spin)
{
    // Ignores cancellation on purpose: only killing the worker ends it.
    volatile std::uint64_t spins = 0;
    for (;;) {
        if (spin)
            spins = spins + 1;
        else
            std::this_thread::sleep_for(50ms);
    }
}

[[noreturn]] void allocate(std::int64_t mbPerSecond, std::int64_t limitMb)
{
    if (mbPerSecond < 0 || limitMb < 0)
        throw TaskException("ValueError", "mb_per_second and limit_mb must be >= 0");
    constexpr std::size_t kChunk = 1 << 20;
    // Kept on purpose: the memory must stay allocated (and touched, so it is resident) until
    // the nanny or the OOM killer ends the process.
    static std::vector<char *> chunks;
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        if (limitMb > 0 && std::int64_t(chunks.size()) >= limitMb) {
            std::this_thread::sleep_for(50ms);
            continue;
        }
        if (mbPerSecond > 0) {
            const auto due = start
                             + std::chrono::microseconds(std::int64_t(chunks.size()) * 1'000'000
                                                         / mbPerSecond);
            std::this_thread::sleep_until(due);
        }
        char *chunk = static_cast<char *>(std::malloc(kChunk));
        if (!chunk) {
            std::this_thread::sleep_for(10ms); // let the limit enforcement catch up
            continue;
        }
        std::memset(chunk, 0xA5, kChunk);
        chunks.push_back(chunk);
    }
}

void throwRuntime(const std::string &message)
{
    throw std::runtime_error(message);
}

void throwNonStd(const std::string &kind)
{
    if (kind == "int")
        throw 42;
    if (kind == "struct")
        throw NotAnException{7};
    throw TaskException("ValueError", "kind must be \"int\" or \"struct\", got \"" + kind + "\"");
}

std::string printThenThrow(const std::string &text)
{
    std::printf("%s\n", text.c_str()); // buffered: the capture must flush it
    std::fprintf(stderr, "stderr: %s\n", text.c_str());
    throw std::runtime_error("failed after printing " + text);
}

taskbench::Value ok(taskbench::Value x)
{
    return x;
}

} // namespace

TASKBENCH_PLUGIN("faults", "1.0", "Fault injection for worker tests (never call in-process)")
{
    using taskbench::sdk::Param;
    plugin.def("segfault",
               &segfault,
               {},
               "Dereference a null pointer: the worker process dies with SIGSEGV.");
    plugin.def("abort_task", &abortTask, {}, "Call std::abort(): the worker dies with SIGABRT.");
    plugin.def("exit_task",
               &exitTask,
               {Param("code", 3)},
               "Flush stdio and end the worker process at once with exit status code (_Exit).");
    plugin.def("hang",
               &hang,
               {Param("spin", false)},
               "Never return and ignore cancellation (sleeping, or busy-looping when spin is "
               "true): only killing the worker ends it.");
    plugin.def("allocate",
               &allocate,
               {Param("mb_per_second", 0), Param("limit_mb", 0)},
               "Allocate and touch memory in 1 MiB chunks until the process is killed, at "
               "mb_per_second (0: as fast as possible); with limit_mb > 0, stop growing there "
               "and hold the memory. Never returns; ignores cancellation.");
    plugin.def("throw_runtime",
               &throwRuntime,
               {Param("message", "runtime error from the faults plugin")},
               "Throw std::runtime_error(message).");
    plugin.def("throw_nonstd",
               &throwNonStd,
               {Param("kind", "struct")},
               "Throw something that is not a std::exception: an int (kind=\"int\") or a "
               "plain struct (kind=\"struct\").");
    plugin.def("print_then_throw",
               &printThenThrow,
               {"text"},
               "Print text to stdout and stderr, then throw std::runtime_error: the error "
               "comes with what the task printed.");
    plugin.def("ok", &ok, {"x"}, "Return x unchanged (the worker is alive and well).");
}
