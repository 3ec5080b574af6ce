// Bounded spinning before a sleep, for the hand-offs on the path of a small task.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace taskbench::detail {

/// Yields until pred() holds or `us` microseconds passed; true if it holds. Replies on a
/// short critical path (a chain of tiny tasks) arrive within tens of microseconds, sooner than
/// a futex sleep and wake-up round trip; yielding keeps the core free for whoever has work.
template <class Pred>
bool spinFor(std::int64_t us, Pred pred)
{
    if (pred())
        return true;
    if (us <= 0)
        return false;
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::microseconds(us);
    // The clock is read every round: on a loaded machine one yield may last a time slice.
    do {
        std::this_thread::yield();
        if (pred())
            return true;
    } while (Clock::now() < deadline);
    return false;
}

} // namespace taskbench::detail
