// Scheduler deadlines: a task's timeout, and the kill of a worker whose cancelled (or timed
// out) task did not stop within the grace period. The engine keeps them ordered by
// steady-clock microseconds and fires the due ones each round (timers.cpp).
#pragma once

#include <cstdint>

namespace taskbench::detail {

enum class TimerKind : std::uint8_t {
    TaskTimeout,       ///< the task ran longer than its timeout: cancel it
    KillIfStillRunning ///< the grace period is over: kill its worker if it still runs
};

/// One deadline for one execution (task + attempt on a worker); stale once that is over.
struct Timer
{
    TimerKind kind;
    std::uint64_t task;
    int attempt;
    int worker;
};

} // namespace taskbench::detail
