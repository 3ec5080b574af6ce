// Signal handling of taskbench-cli (see signals.h). The handlers touch nothing but lock-free
// atomics and write(2), both async-signal-safe.
#include "signals.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <unistd.h>

namespace taskbench::cli {

namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_stacksWanted{false};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void onSignal(int signo)
{
    if (g_signal.exchange(signo) != 0) {
        // A second Ctrl-C: the user does not want to wait for the cancellation.
        static const char msg[] = "taskbench-cli: interrupted again, exiting now\n";
        [[maybe_unused]] const auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(128 + signo);
    }
}

extern "C" void onStackSignal(int)
{
    g_stacksWanted.store(true);
}

} // namespace

void installSignalHandlers()
{
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    struct sigaction usr = {};
    usr.sa_handler = onStackSignal;
    usr.sa_flags = SA_RESTART;
    sigemptyset(&usr.sa_mask);
    sigaction(SIGUSR1, &usr, nullptr);
}

bool takeStackRequest()
{
    return g_stacksWanted.exchange(false);
}

bool interrupted()
{
    return g_signal.load() != 0;
}

int interruptedExitCode()
{
    return 128 + g_signal.load();
}

void startShutdownWatchdog(int exitCode)
{
    std::thread([exitCode] {
        std::this_thread::sleep_for(std::chrono::seconds(5));
        static const char msg[] = "taskbench-cli: tasks did not stop within 5 s, exiting\n";
        [[maybe_unused]] const auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
        ::_exit(exitCode);
    }).detach();
}

} // namespace taskbench::cli
