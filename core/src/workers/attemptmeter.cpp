// Peak memory and CPU time per attempt in a worker process (see attemptmeter_p.h).
//
// The high-water mark is the process's (threads share one address space), so a worker with
// several threads resets it only while no other attempt runs: a reset under a running
// attempt would drop that attempt's peak. An attempt's figure is then the process's peak
// since the last reset, which may include what concurrent attempts used. The mark is reset
// after an attempt whose peak rose more than kSlackKiB above it, not before every attempt:
// a system call here costs about as much as a small task (0.4-0.6 us on the benchmark
// machine), and most attempts leave the mark where it was.
#include "workers/attemptmeter_p.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace taskbench::detail {

namespace {

/// A peak up to this far above the mark after its reset leaves it (results kept in the
/// worker grow the resident size slowly; each reset costs two system calls).
constexpr std::int64_t kSlackKiB = 1024;

struct Reading
{
    std::int64_t cpuUs = 0;
    std::int64_t maxRssKiB = 0;
};

std::int64_t monotonicUs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts); // vDSO: no system call
    return std::int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

Reading sample()
{
    // RUSAGE_THREAD: the calling thread's CPU time, and ru_maxrss the address space's
    // high-water mark (the kernel reports the mm's for threads too).
    rusage ru{};
    ::getrusage(RUSAGE_THREAD, &ru);
    const auto us = [](const timeval &tv) {
        return std::int64_t(tv.tv_sec) * 1'000'000 + std::int64_t(tv.tv_usec);
    };
    return Reading{us(ru.ru_utime) + us(ru.ru_stime), std::int64_t(ru.ru_maxrss)};
}

} // namespace

AttemptMeter::AttemptMeter()
{
    if (const char *v = std::getenv("TASKBENCH_MEASURE_ATTEMPTS"); v && std::strcmp(v, "0") == 0)
        m_enabled = false;
    if (!m_enabled)
        return;
    m_clearRefs = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (m_clearRefs >= 0)
        resetMark();
}

AttemptMeter::~AttemptMeter()
{
    if (m_clearRefs >= 0)
        ::close(m_clearRefs);
}

void AttemptMeter::resetMark()
{
    // "5" resets the peak resident size to the current one (Linux 4.0+).
    if (::write(m_clearRefs, "5", 1) != 1) {
        ::close(m_clearRefs);
        m_clearRefs = -1;
        return;
    }
    m_markKiB.store(sample().maxRssKiB, std::memory_order_relaxed);
    m_resets.fetch_add(1, std::memory_order_relaxed);
}

void AttemptMeter::begin(Thread &t)
{
    if (!m_enabled)
        return;
    m_active.fetch_add(1, std::memory_order_acq_rel);
    const std::int64_t now = monotonicUs();
    if (t.m_atUs < 0 || now - t.m_atUs > kCarryUs) {
        const Reading r = sample();
        t.m_cpuUs = r.cpuUs;
        t.m_rssKiB = r.maxRssKiB;
        t.m_atUs = now;
    }
    t.m_beganUs = now;
}

AttemptUsage AttemptMeter::end(Thread &t)
{
    AttemptUsage usage;
    if (!m_enabled)
        return usage;
    const std::int64_t nowUs = monotonicUs();
    // The first attempt of a thread always reports a reading: the scheduler then has a peak
    // that the quick ones after it stand for.
    // So does the first after the mark was reset: the peak sent last is the old mark's.
    if (t.m_reported && nowUs - t.m_beganUs < kQuickUs && nowUs - t.m_atUs <= kCarryUs
        && t.m_resets == m_resets.load(std::memory_order_relaxed)) {
        // A quick attempt: no system call. Its CPU time is at most its wall time; the
        // thread's baseline moves by as much, and the next reading (at most kCarryUs on)
        // puts it right. The mark read then stands for its peak.
        m_active.fetch_sub(1, std::memory_order_acq_rel);
        t.m_quick = true;
        usage.cpuUs = nowUs - t.m_beganUs;
        t.m_cpuUs += usage.cpuUs;
        if (m_clearRefs >= 0)
            usage.peakRssBytes = t.m_rssKiB * 1024;
        return usage;
    }
    t.m_quick = false;
    t.m_reported = true;
    t.m_resets = m_resets.load(std::memory_order_relaxed);
    const Reading now = sample();
    usage.cpuUs = std::max<std::int64_t>(0, now.cpuUs - t.m_cpuUs);
    t.m_cpuUs = now.cpuUs;
    t.m_rssKiB = now.maxRssKiB;
    t.m_atUs = nowUs;
    const bool alone = m_active.fetch_sub(1, std::memory_order_acq_rel) == 1;
    if (m_clearRefs < 0)
        return usage;
    usage.peakRssBytes = now.maxRssKiB * 1024;
    if (now.maxRssKiB > m_markKiB.load(std::memory_order_relaxed) + kSlackKiB)
        m_resetDue.store(true, std::memory_order_relaxed);
    if (alone && m_resetDue.exchange(false, std::memory_order_acq_rel))
        resetMark();
    return usage;
}

} // namespace taskbench::detail
