// Scheduler deadlines (timers_p.h): a task over its timeout is cancelled (a thread worker's
// task errs at once), and a worker whose cancelled task outlives the grace period is
// killed.
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"

#include <chrono>

namespace taskbench::detail {

void Engine::addTimer(std::int64_t deadlineUs, TimerKind kind, TaskRecord *r, int worker)
{
    m_timers.emplace(deadlineUs, Timer{kind, r->id, r->attempt, worker});
}

void Engine::fireTimers()
{
    if (m_timers.empty())
        return;
    const std::int64_t now = steadyUs();
    while (!m_timers.empty() && m_timers.begin()->first <= now) {
        const Timer t = m_timers.begin()->second;
        m_timers.erase(m_timers.begin());
        TaskRecord *r = lookup(t.task);
        if (!r || r->attempt != t.attempt || r->worker != t.worker
            || r->finishedAttempt == t.attempt)
            continue; // that execution is over
        WorkerBackend *w = workerById(t.worker);
        if (t.kind == TimerKind::TaskTimeout) {
            if (r->state != TaskState::Processing)
                continue;
            r->timedOut = true;
            r->cancelRequested.store(true, std::memory_order_relaxed);
            engineLog()->warn("task {} exceeded its timeout of {} s; cancelling",
                              r->key(),
                              double(r->timeoutUs) / 1e6);
            if (w && w->holdsResults()) {
                w->cancelTask(r->id);
                addTimer(now
                             + std::chrono::duration_cast<std::chrono::microseconds>(
                                   m_options.cancelGrace)
                                   .count(),
                         TimerKind::KillIfStillRunning,
                         r,
                         t.worker);
            } else {
                // A thread cannot be killed: the task errs now, its late result is dropped.
                TaskError e;
                e.type = "TimedOut";
                e.message = "task exceeded its timeout of "
                            + std::to_string(double(r->timeoutUs) / 1e6) + " s";
                e.rootKey = r->key();
                e.rootFunction = r->function ? r->function->qualifiedName : "";
                e.worker = t.worker;
                e.attempts = r->attempt;
                fail(r, std::move(e));
            }
        } else if (w) { // TimerKind::KillIfStillRunning
            if (r->timedOut)
                if (const std::optional<RunningThread> where = w->threadOf(r->id)) {
                    killWithStack(r, *w, *where);
                    continue;
                }
            engineLog()->warn("task {} did not stop within the grace period; killing worker {}",
                              r->key(),
                              t.worker);
            w->kill(r->timedOut ? "timed out" : "cancelled task did not stop");
        }
    }
}

} // namespace taskbench::detail
