// Results held on workers: releasing them (batched per worker, flushed each round), fetching
// them for a client or a dependent on another worker, and losing them with their worker
// (dependents wait again, the value is recomputed when still needed).
#include "scheduler/engine_p.h"

#include <unordered_map>

namespace taskbench::detail {

void Engine::releaseOnWorker(TaskRecord *r)
{
    if (r->holder < 0)
        return;
    m_releases[r->holder].push_back(r->id);
    std::lock_guard lock(stripe(r));
    r->holder = -1;
    r->remote = false;
    r->remotePublished = false;
}

void Engine::flushReleases()
{
    for (auto &[worker, ids] : m_releases)
        if (WorkerBackend *w = workerById(worker); w && !ids.empty())
            w->releaseResults(ids);
    m_releases.clear();
}

void Engine::handle(FetchMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r || r->state != TaskState::Memory) {
        m.reply->set_exception(std::make_exception_ptr(
            ResultLostError("the result is no longer available (task not finished)")));
        return;
    }
    if (!r->remote) {
        m.reply->set_value(r->result);
        return;
    }
    r->ext().fetchWaiters.push_back(m.reply);
    if (!r->fetching) {
        r->fetching = true;
        if (WorkerBackend *w = workerById(r->holder))
            w->fetch({r->id});
        else
            loseResult(r); // its holder is gone: nobody would ever answer
    }
}

void Engine::handle(PrefetchMsg &m)
{
    std::unordered_map<int, std::vector<std::uint64_t>> byWorker;
    for (std::uint64_t id : m.ids) {
        TaskRecord *r = lookup(id);
        if (!r || r->state != TaskState::Memory || !r->remote || r->fetching)
            continue;
        if (!workerById(r->holder))
            continue; // FetchMsg deals with a gone holder when the value is asked for
        r->fetching = true;
        byWorker[r->holder].push_back(id);
    }
    for (auto &[worker, ids] : byWorker)
        workerById(worker)->fetch(ids);
}

void Engine::handle(FetchedMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r)
        return;
    r->fetching = false;
    if (r->holder != m.worker || !r->remote)
        return; // lost or dropped meanwhile
    std::vector<std::shared_ptr<std::promise<Value>>> waiters;
    if (r->extras)
        waiters = std::move(r->extras->fetchWaiters);
    if (m.value) {
        {
            // The scheduler keeps a copy: transfers and later result() calls need no fetch.
            std::lock_guard lock(stripe(r));
            r->result = std::move(*m.value);
            r->remote = false;
            r->remotePublished = false;
        }
        // A pure result held by its worker was not offered when it finished (the scheduler
        // had no copy): now it has one.
        offerToCache(r);
        for (auto &w : waiters)
            w->set_value(r->result);
        for (std::uint64_t id : r->dependents)
            if (TaskRecord *t = lookup(id))
                recountWaiting(t);
    } else {
        // The worker is alive and still holds the value but cannot send it (too large for a
        // frame, or it does not hold it after all): final, retrying would fail the same way. A
        // worker that died is reported by DiedMsg first (loseResult), which clears the holder.
        for (auto &w : waiters)
            w->set_exception(std::make_exception_ptr(
                std::runtime_error("cannot fetch the result of " + r->key() + ": " + m.error)));
    }
}

void Engine::loseResult(TaskRecord *r)
{
    {
        std::lock_guard lock(stripe(r));
        r->holder = -1;
        if (!r->remote)
            return; // the scheduler has a copy: nothing is lost
        r->remote = false;
        r->remotePublished = false;
    }
    r->fetching = false;
    std::vector<std::shared_ptr<std::promise<Value>>> waiters;
    if (r->extras)
        waiters.swap(r->extras->fetchWaiters);
    const auto failWaiters = [&] {
        for (auto &w : waiters)
            w->set_exception(std::make_exception_ptr(
                ResultLostError("the result of " + r->key() + " was lost with its worker")));
    };
    if (r->state != TaskState::Memory)
        return failWaiters();
    transition(r, TaskState::Lost, -1, "its worker died");
    for (std::uint64_t id : r->dependents)
        if (TaskRecord *t = lookup(id))
            recountWaiting(t);
    const bool needed = r->userRefs.load() > 0 || r->needs > 0 || !waiters.empty();
    if (needed)
        recompute(r);
    else
        transition(r, TaskState::Released, -1, "lost, not needed");
    failWaiters(); // after the transition: a waiter that wakes up sees the recomputation
}

} // namespace taskbench::detail
