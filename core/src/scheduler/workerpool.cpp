// The worker pool: membership (start, adopt, remote join, scale, retire and reap), restarts
// and deaths (what a dead worker ran is re-queued or blamed, what it held is lost and
// recomputed), the failure of queued work when no worker can start, and worker snapshots.
#include "remote/workergate_p.h"
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"

#include <algorithm>

namespace taskbench::detail {

namespace {

/// The death cause of a process worker restarted through Client::restartWorker.
constexpr std::string_view kUserRestartCause = "restarted by user";

} // namespace

WorkerBackend *Engine::workerById(int id) const
{
    for (const auto &w : m_workers)
        if (w->id() == id)
            return w.get();
    for (const auto &w : m_retiring)
        if (w->id() == id)
            return w.get();
    return nullptr;
}

void Engine::handle(ScaleMsg &m)
{
    const int target = std::max(0, m.workers);
    while (int(m_workers.size()) < target)
        addWorker();
    while (int(m_workers.size()) > target) {
        // Retire the least busy.
        auto it = std::min_element(m_workers.begin(), m_workers.end(), [](auto &a, auto &b) {
            return a->outstanding < b->outstanding;
        });
        std::unique_ptr<WorkerBackend> w = std::move(*it);
        m_workers.erase(it);
        retireWorker(w.get());
        m_retiring.push_back(std::move(w));
    }
}

void Engine::addWorker()
{
    const int id = m_nextWorkerId++;
    std::unique_ptr<WorkerBackend> w;
    if (m_options.processes) {
        try {
            w = makeProcessWorker(id, m_options, *this);
        } catch (const std::exception &e) {
            engineLog()->error("worker {}: {}", id, e.what());
            m_workerStartError = e.what(); // with no worker at all, queued tasks fail with it
            return;
        }
        m_workerStartError.clear();
    } else {
        w = makeThreadWorker(id, m_options.threadsPerWorker, *this);
    }
    engineLog()->debug("worker {} started ({} threads)", id, w->threads());
    adoptWorker(std::move(w));
}

void Engine::adoptWorker(std::unique_ptr<WorkerBackend> w)
{
    if (wants(EventKind::WorkerAdded)) {
        Event &e = newEvent();
        e.kind = EventKind::WorkerAdded;
        e.worker = w->id();
        e.value = w->threads();
        e.detail().text = w->name();
        e.timeUs = wallClockUs();
    }
    m_workers.push_back(std::move(w));
}

void Engine::addRemoteWorker(std::unique_ptr<RemotePeer> peer)
{
    if (m_stopping || m_closed.load())
        return; // the connection closes with peer
    const int id = m_nextWorkerId++;
    std::unique_ptr<WorkerBackend> w;
    try {
        w = makeRemoteWorker(id, std::move(peer), *this);
    } catch (const std::exception &e) {
        engineLog()->error("cannot add remote worker {}: {}", id, e.what());
        return;
    }
    engineLog()->info("worker {} joined: {} ({} threads)", id, w->name(), w->threads());
    adoptWorker(std::move(w));
}

bool Engine::restartWorker(int id)
{
    auto it = std::find_if(
        m_workers.begin(), m_workers.end(), [id](const auto &w) { return w->id() == id; });
    if (m_stopping || it == m_workers.end())
        return false;
    if ((*it)->holdsResults()) {
        // A process: kill it. The death path re-queues what it ran, recomputes what only it
        // held (as far as still needed) and starts a new process under the same id.
        (*it)->kill(std::string(kUserRestartCause));
        return true;
    }
    // A thread cannot be killed: retire it once its running tasks finish (unstarted work
    // comes back and is queued again) and start a fresh worker in its place.
    std::unique_ptr<WorkerBackend> w = std::move(*it);
    m_workers.erase(it);
    retireWorker(w.get());
    m_retiring.push_back(std::move(w));
    addWorker();
    return true;
}

bool Engine::loseWorker(int id, const std::string &cause)
{
    auto it = std::find_if(
        m_workers.begin(), m_workers.end(), [id](const auto &w) { return w->id() == id; });
    if (m_stopping || it == m_workers.end() || !(*it)->holdsResults())
        return false;
    (*it)->kill(cause.empty() ? std::string("lost") : cause);
    return true;
}

bool Engine::retireWorkerById(int id)
{
    auto it = std::find_if(
        m_workers.begin(), m_workers.end(), [id](const auto &w) { return w->id() == id; });
    if (m_stopping || it == m_workers.end())
        return false;
    std::unique_ptr<WorkerBackend> w = std::move(*it);
    m_workers.erase(it);
    retireWorker(w.get()); // as scale() does, for this one
    m_retiring.push_back(std::move(w));
    return true;
}

void Engine::retireWorker(WorkerBackend *w)
{
    w->drain(); // unstarted work comes back as completions and is queued again
    if (!w->holdsResults())
        return;
    // Move what only this worker holds to the scheduler before it goes: nothing is lost.
    std::vector<std::uint64_t> ids;
    for (auto &[id, r] : m_tasks) {
        if (r->holder != w->id())
            continue;
        if (r->remote && !r->fetching) {
            r->fetching = true;
            ids.push_back(id);
        } else if (!r->remote) {
            r->holder = -1; // the scheduler has the value already
        }
    }
    if (!ids.empty())
        w->fetch(ids);
}

void Engine::reapRetired()
{
    for (auto it = m_retiring.begin(); it != m_retiring.end();) {
        const int wid = (*it)->id();
        const bool holding = std::any_of(m_tasks.begin(), m_tasks.end(), [wid](const auto &p) {
            return p.second->holder == wid && p.second->remote;
        });
        if ((*it)->outstanding > 0 || holding) {
            ++it;
            continue;
        }
        (*it)->stop();
        if (wants(EventKind::WorkerRemoved)) {
            Event &e = newEvent();
            e.kind = EventKind::WorkerRemoved;
            e.worker = (*it)->id();
            e.detail().text = "scaled down";
            e.timeUs = wallClockUs();
        }
        it = m_retiring.erase(it);
    }
}

void Engine::handle(DiedMsg &m)
{
    WorkerBackend *w = workerById(m.worker);
    if (!w)
        return;
    // A process worker has already let go of its child here (its own log names the pid).
    const long pid = w->pid();
    engineLog()->warn("worker {}{} died: {}; {}",
                      m.worker,
                      pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string(),
                      m.cause,
                      w->remoteIdentity() ? "removing it" : "restarting it");
    w->outstanding = 0;
    std::vector<TaskRecord *> running, held;
    for (auto &[id, r] : m_tasks) {
        if (r->worker == m.worker && r->attempt > 0 && r->finishedAttempt != r->attempt)
            running.push_back(r);
        if (r->holder == m.worker)
            held.push_back(r);
    }
    for (TaskRecord *r : held)
        loseResult(r);
    for (TaskRecord *r : running) {
        r->finishedAttempt = r->attempt;
        if (r->pendingDelete) {
            deleteRecord(r);
            continue;
        }
        if (r->state != TaskState::Processing)
            continue; // cancelled meanwhile
        TaskError e;
        e.rootKey = r->key();
        e.rootFunction = r->function ? r->function->qualifiedName : "";
        e.worker = m.worker;
        e.attempts = r->attempt;
        if (r->timedOut) {
            e.type = "TimedOut";
            e.message = "task exceeded its timeout of " + std::to_string(double(r->timeoutUs) / 1e6)
                        + " s; its worker was killed";
            if (r->extras && !r->extras->killStack.empty())
                e.traceback = "stack of the task's thread just before the kill (eu-stack):\n"
                              + r->extras->killStack;
            fail(r, std::move(e));
            continue;
        }
        // A restart the user asked for is not the task's fault: it runs again, unblamed.
        const bool blamed = m.cause != kUserRestartCause;
        if (blamed)
            ++r->suspicious;
        if (blamed && r->suspicious >= m_options.allowedFailures) {
            e.type = "WorkerDied";
            e.message = "worker died while running this task " + std::to_string(r->suspicious)
                        + (r->suspicious == 1 ? " time" : " times") + " (last: " + m.cause + ")";
            // The context an exception's traceback gives, so a crash is as easy to trace,
            // plus the cause of the last death when the worker backend knows it.
            e.traceback = callTraceback(r, m.worker, r->attempt);
            if (!m.cause.empty())
                e.traceback += "  worker died: " + m.cause + "\n";
            fail(r, std::move(e));
        } else {
            enqueueReady(r, m.worker, "worker died");
            // Its inputs may have been held by the same worker (lost above): wait for their
            // recomputation instead of running with nothing.
            recountWaiting(r);
        }
    }
    if (wants(EventKind::Log)) {
        Event &e = newEvent();
        e.kind = EventKind::Log;
        e.worker = m.worker;
        e.detail().text = "worker " + std::to_string(m.worker) + " died (" + m.cause + ")"
                          + (w->remoteIdentity() ? "; removed" : "; restarting");
        e.timeUs = wallClockUs();
    }
    const auto it
        = std::find_if(m_workers.begin(), m_workers.end(), [&](auto &p) { return p.get() == w; });
    if (m_stopping || it == m_workers.end())
        return;
    if (!w->remoteIdentity()) {
        w->restart();
        return;
    }
    // A remote worker cannot be restarted from here: it leaves the cluster.
    std::unique_ptr<WorkerBackend> gone = std::move(*it);
    m_workers.erase(it);
    gone->stop();
    if (wants(EventKind::WorkerRemoved)) {
        Event &e = newEvent();
        e.kind = EventKind::WorkerRemoved;
        e.worker = m.worker;
        e.detail().text = m.cause;
        e.timeUs = wallClockUs();
    }
}

void Engine::failUnrunnable()
{
    // No worker could be started (a missing or broken taskbench-worker): nothing would ever
    // run what is queued, so it fails now rather than waiting forever.
    auto ready = std::move(m_ready);
    m_ready.clear();
    m_readyCount = 0;
    for (auto &[priority, queue] : ready)
        for (const ReadyEntry &entry : queue) {
            TaskRecord *r = lookup(entry.id);
            if (!r || r->state != TaskState::Queued || r->readySeq != entry.seq)
                continue;
            TaskError e;
            e.type = "WorkerStartError";
            e.message = m_workerStartError;
            e.rootKey = r->key();
            e.rootFunction = r->function ? r->function->qualifiedName : "";
            fail(r, std::move(e));
        }
}

std::vector<WorkerInfo> Engine::workerInfos() const
{
    std::vector<WorkerInfo> out;
    for (const auto &w : m_workers) {
        WorkerInfo info;
        info.id = w->id();
        info.name = w->name();
        info.threads = w->threads();
        info.pid = w->pid();
        info.tasksDone = w->tasksDone;
        info.memoryBytes = w->memoryBytes();
        if (const auto remote = w->remoteIdentity()) {
            info.remote = true;
            info.label = remote->label;
            info.address = remote->address;
            info.host = remote->host;
        }
        out.push_back(std::move(info));
    }
    for (const auto &[id, r] : m_tasks) {
        for (WorkerInfo &info : out) {
            if (r->worker != info.id && r->holder != info.id)
                continue;
            if (r->state == TaskState::Processing)
                info.running.push_back(r->key());
            else if (r->state == TaskState::Memory) {
                ++info.resultsHeld;
                info.bytesHeld += r->remoteBytes;
            }
        }
    }
    return out;
}

std::string Engine::listenAddress() const
{
    return m_options.listen; // resolved by start(), unchanged afterwards
}

std::string Engine::tokenFile() const
{
    return m_options.listen.empty() ? std::string() : m_options.tokenFile;
}

} // namespace taskbench::detail
