// Steering (taskbench/steering.h) on the scheduler thread: pausing the cluster (dispatch
// stops; "pause now" also stops running attempts and queues them again), breakpoints that
// hold tasks as they become ready, releasing and stepping held tasks, editing a held task's
// arguments, priorities changed after submit, and killing a task's process worker at once.
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"
#include "util/clock_p.h"
#include "value/replacerefs_p.h"

#include <algorithm>
#include <unordered_set>

namespace taskbench::detail {

void Engine::steeringEvent(std::string text)
{
    engineLog()->info("{}", text);
    if (!wants(EventKind::Steering))
        return;
    Event &e = newEvent();
    e.kind = EventKind::Steering;
    e.ok = m_paused;
    e.timeUs = wallClockUs();
    e.detail().text = std::move(text);
}

void Engine::setPaused(bool paused, PauseMode mode)
{
    if (paused == m_paused && !(paused && mode == PauseMode::Now))
        return;
    m_paused = paused;
    m_pausedFlag.store(paused, std::memory_order_release);
    if (paused && mode == PauseMode::Now) {
        // Ask every running attempt to stop; the completions queue them again
        // (requeueRecalled) instead of finishing or failing them.
        for (auto &[id, r] : m_tasks) {
            if (r->state != TaskState::Processing || r->pauseRecalled)
                continue;
            r->pauseRecalled = true;
            r->cancelRequested.store(true, std::memory_order_relaxed);
            if (WorkerBackend *w = workerById(r->worker); w && w->holdsResults())
                w->cancelTask(r->id);
        }
    }
    steeringEvent(!paused                  ? "resumed"
                  : mode == PauseMode::Now ? "paused now: running tasks stopped and queued again"
                                           : "paused");
}

void Engine::requeueRecalled(TaskRecord *r, int worker)
{
    r->pauseRecalled = false;
    r->finishedAttempt = r->attempt;
    enqueueReady(r, worker, "paused now: stopped, queued again");
}

bool Engine::matches(const Breakpoint &b, const TaskRecord *r) const
{
    if (r->attempt + 1 < b.minAttempt)
        return false;
    switch (b.match) {
    case Breakpoint::Match::Key:
        return r->key() == b.pattern;
    case Breakpoint::Match::Function:
        return r->function && r->function->qualifiedName == b.pattern;
    case Breakpoint::Match::Group:
        return r->group && *r->group == b.pattern;
    }
    return false;
}

bool Engine::holdAtBreakpoint(TaskRecord *r)
{
    if (m_breakpoints.empty() || !r->function || r->releasedAttempt == r->attempt + 1)
        return false;
    const auto hit = std::find_if(m_breakpoints.begin(),
                                  m_breakpoints.end(),
                                  [&](const Breakpoint &b) { return matches(b, r); });
    if (hit == m_breakpoints.end())
        return false;
    transition(r, TaskState::Held, -1, "held at a breakpoint");
    m_held.push_back(r->id);
    return true;
}

int Engine::addBreakpoint(Breakpoint breakpoint)
{
    breakpoint.id = m_nextBreakpoint++;
    breakpoint.minAttempt = std::max(1, breakpoint.minAttempt);
    m_breakpoints.push_back(breakpoint);
    steeringEvent("breakpoint " + std::to_string(breakpoint.id)
                  + " added: " + breakpoint.describe());
    // Queued tasks that match are held now: a breakpoint set while a map waits applies to it.
    for (auto &[priority, queue] : m_ready)
        for (const ReadyEntry &entry : queue) {
            TaskRecord *r = lookup(entry.id);
            if (r && r->state == TaskState::Queued && r->readySeq == entry.seq
                && r->releasedAttempt != r->attempt + 1 && matches(breakpoint, r)) {
                ++r->readySeq; // its entry is stale now
                transition(r, TaskState::Held, -1, "held at a breakpoint");
                m_held.push_back(r->id);
            }
        }
    return breakpoint.id;
}

bool Engine::removeBreakpoint(int id)
{
    const auto it = std::find_if(m_breakpoints.begin(),
                                 m_breakpoints.end(),
                                 [&](const Breakpoint &b) { return b.id == id; });
    if (it == m_breakpoints.end())
        return false;
    const std::string text = "breakpoint " + std::to_string(id) + " removed: " + it->describe();
    m_breakpoints.erase(it);
    steeringEvent(text);
    return true;
}

std::vector<TaskRecord *> Engine::heldRecords()
{
    std::vector<TaskRecord *> out;
    std::deque<std::uint64_t> still;
    std::unordered_set<std::uint64_t> seen; // held, released and held again: listed once
    for (std::uint64_t id : m_held) {
        TaskRecord *r = lookup(id);
        if (!r || r->state != TaskState::Held || !seen.insert(id).second)
            continue;
        out.push_back(r);
        still.push_back(id);
    }
    m_held = std::move(still); // drops the stale ids on the way
    return out;
}

bool Engine::releaseHeld(TaskRecord *r)
{
    if (r->state != TaskState::Held)
        return false;
    r->releasedAttempt = r->attempt + 1;
    enqueueReady(r, -1, "released");
    return true;
}

void Engine::setArguments(TaskRecord *r, std::vector<Value> args)
{
    if (r->state != TaskState::Held)
        throw std::invalid_argument("task " + r->key()
                                    + " is not held: only a held task's "
                                      "arguments can be changed");
    // References only to the task's own inputs: the dependencies stay what they were.
    for (Value &a : args) {
        std::string unknown;
        replaceRefs(a, [&](const std::string &key, Value &) {
            const bool known = std::any_of(r->deps.begin(),
                                           r->deps.end(),
                                           [&](const TaskRecord *d) { return d->key() == key; });
            if (!known)
                unknown = key;
            return known;
        });
        if (!unknown.empty())
            throw std::invalid_argument("the arguments refer to " + unknown
                                        + ", which is not an input of " + r->key());
    }
    r->ext().editedArgs = std::move(args);
    r->cacheable = false; // its key describes the call as submitted
}

void Engine::setPriority(TaskRecord *r, int priority)
{
    if (r->priority == priority)
        return;
    r->priority = priority;
    if (r->state == TaskState::Queued) {
        // Queued again under the new priority; the old entry is skipped as stale.
        m_ready[priority].push_back({r->id, ++r->readySeq});
        ++m_readyCount;
    }
    if (wants(EventKind::PriorityChanged)) {
        Event &e = newEvent();
        e.kind = EventKind::PriorityChanged;
        e.task = r->id;
        e.value = priority;
        e.timeUs = wallClockUs();
    }
}

int Engine::runNext(TaskRecord *r)
{
    int top = r->priority;
    for (auto &[priority, queue] : m_ready)
        for (const ReadyEntry &entry : queue) {
            const TaskRecord *t = lookup(entry.id);
            if (t && t != r && t->state == TaskState::Queued && t->readySeq == entry.seq) {
                top = std::max(top, priority + 1);
                break;
            }
        }
    setPriority(r, top);
    return top;
}

bool Engine::killNow(TaskRecord *r, std::string *why)
{
    auto refuse = [&](const std::string &text) {
        if (why)
            *why = text;
        return false;
    };
    if (r->state != TaskState::Processing)
        return refuse("task " + r->key() + " is not running");
    WorkerBackend *w = workerById(r->worker);
    if (!w || !w->holdsResults() || w->remoteIdentity())
        return refuse("task " + r->key()
                      + " does not run on a local process worker (a thread cannot be killed)");
    const int worker = r->worker;
    cancelTask(r, "killed by user");
    return restartWorker(worker) || refuse("worker " + std::to_string(worker) + " is gone");
}

} // namespace taskbench::detail
