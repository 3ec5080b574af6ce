// What an attempt used, measured inside a worker process: the process's peak resident
// memory (the kernel's high-water mark, VmHWM, reset through /proc/self/clear_refs) and the
// CPU time of the thread that ran the attempt (getrusage(RUSAGE_THREAD)). One system call
// per attempt in the steady state: the reading that ends an attempt starts the thread's next
// one when that starts within kCarryUs, and the mark is reset only after it rose. How exact
// each figure is: README, "Forensics for native tasks".
#pragma once

#include "taskbench/taskstate.h"

#include <atomic>
#include <cstdint>

namespace taskbench::detail {

class AttemptMeter
{
public:
    /// A reading younger than this starts the thread's next attempt (what the thread did
    /// in between, at most this much CPU time, counts to that attempt); an older one is
    /// taken again.
    static constexpr std::int64_t kCarryUs = 1000;
    /// An attempt shorter than this (wall time), within kCarryUs of the thread's last
    /// reading, takes none of its own: its CPU time is its wall time (an upper bound, off by
    /// less than this) and its peak the mark at that reading (in 20 us a task can touch
    /// well under 1 MiB more: a page fault costs about 0.25 us).
    static constexpr std::int64_t kQuickUs = 20;

    /// One per executing thread: its last reading.
    class Thread
    {
    private:
        friend class AttemptMeter;
        std::int64_t m_cpuUs = 0;
        std::int64_t m_rssKiB = 0;  ///< the high-water mark at the reading
        std::int64_t m_atUs = -1;   ///< monotonic time of the reading; -1: none
        std::int64_t m_beganUs = 0; ///< the running attempt's start
        bool m_quick = false;       ///< the last attempt took no reading of its own
        bool m_reported = false;    ///< an attempt of this thread sent a reading's figures
        std::uint32_t m_resets = 0; ///< the mark's resets as of this thread's last reading
    };

    /// Measures unless TASKBENCH_MEASURE_ATTEMPTS=0 (how the overhead is benchmarked).
    /// Without a writable /proc/self/clear_refs (Linux < 4.0, no procfs) memory is unknown.
    AttemptMeter();
    ~AttemptMeter();
    AttemptMeter(const AttemptMeter &) = delete;
    AttemptMeter &operator=(const AttemptMeter &) = delete;

    bool enabled() const { return m_enabled; }
    bool measuresMemory() const { return m_clearRefs >= 0; }

    /// Right before the attempt's call, on its thread.
    void begin(Thread &t);
    /// Right after it: the attempt's peak memory and CPU time (resultBytes is left -1).
    AttemptUsage end(Thread &t);
    /// The last end() on this thread was a quick attempt's: its figures are its wall time
    /// and the mark last read, which the scheduler can tell by itself (not sent).
    static bool wasQuick(const Thread &t) { return t.m_quick; }

private:
    void resetMark();

    bool m_enabled = true;
    int m_clearRefs = -1;
    std::atomic<int> m_active{0};           ///< attempts running in this process
    std::atomic<std::int64_t> m_markKiB{0}; ///< the high-water mark right after its last reset
    std::atomic<bool> m_resetDue{false};    ///< it rose, but another attempt was running
    std::atomic<std::uint32_t> m_resets{0}; ///< after one, each thread reads again
};

} // namespace taskbench::detail
