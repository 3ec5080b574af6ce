// Gates and barriers that make the order of tasks and test steps deterministic: a task
// waits on a Gate the test opens; the test waits on a Barrier until n tasks arrived. Both
// give up after a limit, so a broken engine fails a test instead of hanging it.
#pragma once

#include "taskbench/sdk.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace taskbench::testsupport {

using namespace std::chrono_literals;

/// A latch tasks wait on; opened by the test. Waiting honours cancellation.
class Gate
{
public:
    void open()
    {
        {
            std::lock_guard lock(m_mutex);
            m_open = true;
        }
        m_cv.notify_all();
    }
    bool wait(sdk::TaskContext &ctx, std::chrono::milliseconds limit = 20s)
    {
        std::unique_lock lock(m_mutex);
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!m_open) {
            if (ctx.cancelled() || std::chrono::steady_clock::now() > deadline)
                return false;
            m_cv.wait_for(lock, 5ms);
        }
        return true;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_open = false;
};

/// Counts arrivals; wait(n) returns true once n have arrived (or false after the limit).
class Barrier
{
public:
    void arrive()
    {
        {
            std::lock_guard lock(m_mutex);
            ++m_count;
        }
        m_cv.notify_all();
    }
    bool waitFor(int n, std::chrono::milliseconds limit = 20s)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, limit, [&] { return m_count >= n; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_count = 0;
};

/// A task body ("t.gated" in the engine suites): announces its start on `started`, then
/// returns x once `gate` opens (throws "Cancelled" if cancelled or never opened).
inline auto gatedIdentity(Gate &gate, Barrier &started)
{
    return [&gate, &started](std::int64_t x, sdk::TaskContext &ctx) {
        started.arrive();
        if (!gate.wait(ctx))
            throw sdk::TaskException("Cancelled", "gate not opened");
        return x;
    };
}

} // namespace taskbench::testsupport
