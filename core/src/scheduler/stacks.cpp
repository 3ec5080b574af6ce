// Native stacks of running tasks (see Client::stackOf): finding the process and thread that
// run a task, and a timed-out task's stack taken just before its worker is killed. eu-stack
// runs off the scheduler thread (it takes a fraction of a second); the kill follows through
// the inbox, so the scheduler keeps going meanwhile.
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"
#include "workers/stackcapture_p.h"

namespace taskbench::detail {

std::optional<RunningThread> Engine::runningThread(std::string_view key, std::string *why)
{
    TaskRecord *r = nullptr;
    {
        std::lock_guard lock(m_registryMutex);
        const auto it = m_byKey.find(key);
        if (it != m_byKey.end() && it->second->registered)
            r = it->second;
    }
    if (!r) {
        *why = "no task with key '" + std::string(key) + "'";
        return std::nullopt;
    }
    if (r->state != TaskState::Processing) {
        *why = "task " + r->key() + " is not running (it is " + toString(r->state) + ")";
        return std::nullopt;
    }
    WorkerBackend *w = workerById(r->worker);
    if (!w) {
        *why = "task " + r->key() + " has no worker";
        return std::nullopt;
    }
    if (std::optional<RunningThread> where = w->threadOf(r->id))
        return where;
    if (w->pid() <= 0)
        *why = "task " + r->key() + " runs on worker " + std::to_string(r->worker)
               + ", which is not a local process (thread workers share this process: attach a "
                 "debugger to it; remote workers: on their host)";
    else
        *why = "task " + r->key() + " is not on a thread of worker " + std::to_string(r->worker)
               + " yet (queued there, or just finished)";
    return std::nullopt;
}

void Engine::killWithStack(TaskRecord *r, WorkerBackend &w, RunningThread where)
{
    engineLog()->warn("task {} did not stop within the grace period; taking its stack, then "
                      "killing worker {}",
                      r->key(),
                      w.id());
    const std::uint64_t task = r->id;
    const int attempt = r->attempt;
    const int worker = w.id();
    m_stackCaptures.emplace_back([this, task, attempt, worker, where] {
        std::string error;
        std::optional<std::string> stack = captureStack(where.pid, where.tid, &error);
        std::string text = stack ? std::move(*stack) : "(no stack: " + error + ")\n";
        post(QueryMsg{[this, task, attempt, worker, text = std::move(text)]() mutable {
            finishKillWithStack(task, attempt, worker, std::move(text));
        }});
    });
}

void Engine::finishKillWithStack(std::uint64_t task, int attempt, int worker, std::string stack)
{
    if (m_closed.load())
        return; // run inline by close(): the workers are gone
    TaskRecord *r = lookup(task);
    WorkerBackend *w = workerById(worker);
    if (!r || !w || r->attempt != attempt || r->worker != worker || r->finishedAttempt == attempt
        || r->state != TaskState::Processing)
        return; // it ended meanwhile
    r->ext().killStack = std::move(stack);
    w->kill("timed out");
}

} // namespace taskbench::detail
