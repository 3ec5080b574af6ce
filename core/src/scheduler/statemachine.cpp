// The task state machine (Dask's vocabulary): every transition with its published status and
// event, and what moves a task: a worker's completions (finish, retry, fail), failure and
// cancellation spreading to dependents, retry by hand, done callbacks, progress and logs,
// and releasing, forgetting and recomputing results.
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <chrono>

namespace taskbench::detail {

namespace {

std::string describeArgs(const std::vector<Value> &args)
{
    std::string s = "(";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i)
            s += ", ";
        s += repr(args[i], 60);
    }
    return s + ")";
}

/// An error message quoted as Python's repr would (the warning reads like Dask's
/// "Exception: ValueError('...')"): single quotes unless the text has one and no double.
std::string pythonQuoted(std::string_view text)
{
    const bool doubleQuotes
        = text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos;
    const char quote = doubleQuotes ? '"' : '\'';
    std::string out(1, quote);
    for (const char c : text) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c == quote)
                out.push_back('\\');
            out.push_back(c);
        }
    }
    out.push_back(quote);
    return out;
}

} // namespace

std::string callTraceback(const TaskRecord *r, int worker, int attempt)
{
    return "  in task " + r->key() + "\n  calling "
           + (r->function ? r->function->qualifiedName : std::string())
           + describeArgs(currentArgs(r)) + "\n  on worker " + std::to_string(worker) + ", attempt "
           + std::to_string(attempt) + "\n";
}

void Engine::publish(TaskRecord *r, FutureStatus status)
{
    {
        std::lock_guard lock(stripe(r));
        r->attemptsPublished = r->attempt;
        r->status.store(std::uint8_t(status), std::memory_order_seq_cst);
    }
    m_statusChanged = true;
}

void Engine::transition(TaskRecord *r, TaskState to, int worker, const char *note)
{
    const TaskState from = r->state;
    r->state = to;
    const std::int64_t now = wallClockUs();
    r->history.push_back(Transition{from, to, now, worker, r->attempt, note});
    const FutureStatus before = futureStatusOf(from);
    const FutureStatus after = futureStatusOf(to);
    if (to != TaskState::Forgotten && (before != after || from == TaskState::Released))
        publish(r, after);
    if (wants(to == TaskState::Forgotten ? kForgottenTransitions
                                         : eventBit(EventKind::Transition))) {
        Event &e = newEvent();
        e.kind = EventKind::Transition;
        e.task = r->id;
        e.from = from;
        e.to = to;
        e.worker = worker;
        e.attempt = r->attempt;
        e.timeUs = now;
        if (*note)
            e.detail().text = note;
    }
    if (isTerminal(after) && r->extras && !r->extras->callbacks.empty())
        runCallbacks(r);
}

void Engine::runCallbacks(TaskRecord *r)
{
    auto callbacks = std::move(r->extras->callbacks);
    r->extras->callbacks.clear();
    Future f(r, shared_from_this());
    for (auto &cb : callbacks) {
        try {
            cb(f);
        } catch (const std::exception &e) {
            engineLog()->error("done callback of {} threw: {}", r->key(), e.what());
        } catch (...) {
            engineLog()->error("done callback of {} threw a non-standard exception", r->key());
        }
    }
}

void Engine::waitForDeps(TaskRecord *r)
{
    r->waitingOn = 0;
    for (TaskRecord *d : r->deps)
        if (d->state != TaskState::Memory)
            ++r->waitingOn;
    if (r->waitingOn == 0)
        makeReady(r);
}

void Engine::makeReady(TaskRecord *r)
{
    if (!deferToCache(r))
        enqueueReady(r);
}

void Engine::enqueueReady(TaskRecord *r, int worker, const char *note)
{
    if (holdAtBreakpoint(r))
        return;
    transition(r, TaskState::Queued, worker, note);
    m_ready[r->priority].push_back({r->id, ++r->readySeq});
    ++m_readyCount;
}

void Engine::handle(CompletionMsg &m)
{
    WorkerBackend *w = nullptr;
    for (auto &candidate : m_workers)
        if (candidate->id() == m.worker)
            w = candidate.get();
    if (!w)
        for (auto &candidate : m_retiring)
            if (candidate->id() == m.worker)
                w = candidate.get();
    const bool events = wants(EventKind::ExecutionFinished);
    for (Completion &c : m.items) {
        if (w) {
            --w->outstanding;
            if (c.started)
                ++w->tasksDone;
        }
        TaskRecord *r = lookup(c.task);
        if (!r || r->attempt != c.attempt || r->worker != m.worker) {
            if (w && w->holdsResults() && c.started && c.ok)
                m_releases[m.worker].push_back(c.task); // nobody wants it any more
            continue;
        }
        r->finishedAttempt = c.attempt;
        if (!c.output.empty())
            r->ext().output += c.output;
        if (r->pendingDelete) { // forgotten while it ran
            deleteRecord(r);
            continue;
        }
        if (r->state != TaskState::Processing) {
            // Cancelled (or timed out) meanwhile: the result is dropped.
            if (w && w->holdsResults() && c.started && c.ok)
                m_releases[m.worker].push_back(c.task);
            continue;
        }
        if (r->pauseRecalled && c.started) { // "pause now" stopped it: its outcome is dropped
            if (w && w->holdsResults() && c.ok)
                m_releases[m.worker].push_back(c.task);
            requeueRecalled(r, m.worker);
            continue;
        }
        r->pauseRecalled = false;
        if (!c.started) { // handed back by a retiring or dead worker: never ran
            // Not a finished attempt: were it counted as one, the next assignment (same
            // attempt number) would look finished and a worker death would not re-queue it.
            r->finishedAttempt = c.attempt - 1;
            --r->attempt;
            makeReady(r);
            continue;
        }
        r->startUs = c.startUs;
        r->endUs = c.endUs;
        AttemptUsage usage = c.usage;
        usage.resultBytes = c.ok && !r->timedOut ? std::int64_t(c.bytes) : -1;
        if (r->usageAttempt > 0 && r->usageAttempt != c.attempt) // a retry: keep the last
            r->ext().earlierUsage.push_back(AttemptFigures{r->usageAttempt, r->usage});
        {
            std::lock_guard lock(stripe(r));
            r->usage = usage;
        }
        r->usageAttempt = c.attempt;
        if (events) {
            Event &e = newEvent();
            e.kind = EventKind::ExecutionFinished;
            e.task = r->id;
            e.worker = m.worker;
            e.thread = c.thread;
            e.attempt = c.attempt;
            e.startUs = c.startUs;
            e.timeUs = c.endUs;
            e.ok = c.ok;
            e.usage = usage;
        }
        if (r->function) {
            double &mean = m_meanDurationUs.try_emplace(r->function.get(), 0.0).first->second;
            const double d = double(std::max<std::int64_t>(0, c.endUs - c.startUs));
            mean = mean == 0.0 ? d : 0.9 * mean + 0.1 * d;
        }
        if (r->timedOut) {
            if (w && w->holdsResults() && c.ok)
                m_releases[m.worker].push_back(c.task);
            c.ok = false;
            c.errorType = "TimedOut";
            c.errorMessage = "task exceeded its timeout of "
                             + std::to_string(double(r->timeoutUs) / 1e6) + " s";
            r->retriesUsed = r->retries; // a timeout is final
        }
        if (c.ok) {
            if (w && w->holdsResults()) {
                std::lock_guard lock(stripe(r));
                r->holder = m.worker;
                r->remote = c.remote;
                r->remotePublished = c.remote;
                r->remoteType = std::move(c.typeName);
                r->remoteBytes = c.bytes;
            }
            finish(r, std::move(c.result));
            continue;
        }
        // Checked first: the arguments' repr would be built for every failed attempt even
        // when warnings are off (as in benchmarks), on the scheduler thread.
        if (engineLog()->should_log(spdlog::level::warn))
            engineLog()->warn("Compute Failed\nKey:       {}\nFunction:  {}\nargs:      {}\n"
                              "Exception: {}({})\nAttempt:   {}",
                              r->key(),
                              r->function ? r->function->qualifiedName : "",
                              describeArgs(currentArgs(r)),
                              c.errorType,
                              pythonQuoted(c.errorMessage),
                              r->attempt);
        if (r->retriesUsed < r->retries) {
            ++r->retriesUsed;
            enqueueReady(r, m.worker, "retry");
            continue;
        }
        TaskError e;
        e.type = std::move(c.errorType);
        e.message = std::move(c.errorMessage);
        e.rootKey = r->key();
        e.rootFunction = r->function ? r->function->qualifiedName : "";
        e.worker = m.worker;
        e.attempts = r->attempt;
        e.traceback = callTraceback(r, m.worker, r->attempt);
        fail(r, std::move(e));
    }
}

void Engine::finish(TaskRecord *r, Value result, const char *cacheNote)
{
    {
        std::lock_guard lock(stripe(r));
        r->result = std::move(result);
        r->error.reset();
    }
    if (!cacheNote)
        offerToCache(r);
    transition(r, TaskState::Memory, cacheNote ? -1 : r->worker, cacheNote ? cacheNote : "");
    // Release what this task needed, then wake its dependents.
    if (r->countsNeeds) {
        r->countsNeeds = false;
        for (TaskRecord *d : r->deps)
            if (d->needs > 0)
                --d->needs;
        for (TaskRecord *d : r->deps)
            maybeForget(d);
    }
    for (std::uint64_t id : r->dependents) {
        TaskRecord *t = lookup(id);
        if (t && t->state == TaskState::Waiting && t->waitingOn > 0 && --t->waitingOn == 0)
            makeReady(t);
    }
    maybeForget(r);
}

void Engine::fail(TaskRecord *root, TaskError error)
{
    // Iterative: long chains must not recurse deeply.
    std::vector<std::pair<TaskRecord *, TaskError>> stack;
    stack.emplace_back(root, std::move(error));
    while (!stack.empty()) {
        auto [r, err] = std::move(stack.back());
        stack.pop_back();
        if (r->state == TaskState::Erred || r->state == TaskState::Memory
            || r->state == TaskState::Cancelled || r->state == TaskState::Forgotten)
            continue;
        {
            std::lock_guard lock(stripe(r));
            r->error = std::make_shared<const TaskError>(err);
        }
        transition(r, TaskState::Erred, r->worker, err.fromDependency ? "dependency failed" : "");
        TaskError child = err;
        child.fromDependency = true;
        for (std::uint64_t id : r->dependents) {
            TaskRecord *t = lookup(id);
            if (t && t->state != TaskState::Erred && t->state != TaskState::Memory
                && t->state != TaskState::Cancelled)
                stack.emplace_back(t, child);
        }
    }
}

void Engine::cancelTask(TaskRecord *root, const char *note)
{
    std::vector<TaskRecord *> stack{root};
    bool first = true;
    while (!stack.empty()) {
        TaskRecord *r = stack.back();
        stack.pop_back();
        const TaskState s = r->state;
        if (s == TaskState::Memory || s == TaskState::Cancelled || s == TaskState::Forgotten
            || (s == TaskState::Erred && !first))
            continue;
        if (s == TaskState::Processing) {
            r->cancelRequested.store(true, std::memory_order_relaxed);
            if (WorkerBackend *w = workerById(r->worker); w && w->holdsResults()) {
                // Cooperative first; the worker is killed if the task is still running
                // after the grace period.
                w->cancelTask(r->id);
                addTimer(steadyUs()
                             + std::chrono::duration_cast<std::chrono::microseconds>(
                                   m_options.cancelGrace)
                                   .count(),
                         TimerKind::KillIfStillRunning,
                         r,
                         w->id());
            }
        }
        transition(r, TaskState::Cancelled, r->worker, first ? note : "a dependency was cancelled");
        first = false;
        for (std::uint64_t id : r->dependents)
            if (TaskRecord *t = lookup(id))
                stack.push_back(t);
    }
}

void Engine::handle(CancelMsg &m)
{
    for (std::uint64_t id : m.ids)
        if (TaskRecord *r = lookup(id))
            cancelTask(r, "cancelled by user");
}

void Engine::handle(RetryMsg &m)
{
    // Walk back to the roots: tasks that failed (or were cancelled) themselves.
    std::vector<TaskRecord *> stack;
    for (std::uint64_t id : m.ids)
        if (TaskRecord *r = lookup(id))
            stack.push_back(r);
    std::vector<TaskRecord *> reset;
    auto marked
        = [&](TaskRecord *r) { return std::find(reset.begin(), reset.end(), r) != reset.end(); };
    while (!stack.empty()) {
        TaskRecord *r = stack.back();
        stack.pop_back();
        if ((r->state != TaskState::Erred && r->state != TaskState::Cancelled
             && r->state != TaskState::Lost)
            || marked(r) || !r->function)
            continue;
        reset.push_back(r);
        for (TaskRecord *d : r->deps)
            stack.push_back(d);
    }
    // Dependents that erred or were cancelled because of a reset task come back too.
    for (std::size_t i = 0; i < reset.size(); ++i) {
        for (std::uint64_t id : reset[i]->dependents) {
            TaskRecord *t = lookup(id);
            if (t && !marked(t)
                && ((t->state == TaskState::Erred && t->error && t->error->fromDependency)
                    || t->state == TaskState::Cancelled))
                reset.push_back(t);
        }
    }
    for (TaskRecord *r : reset) {
        {
            std::lock_guard lock(stripe(r));
            r->error.reset();
        }
        r->retriesUsed = 0;
        r->suspicious = 0;
        transition(r, TaskState::Waiting, -1, "retry requested");
    }
    for (TaskRecord *r : reset)
        waitForDeps(r);
}

void Engine::handle(CallbackMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r)
        return;
    if (isTerminal(futureStatusOf(r->state)) && r->state != TaskState::Forgotten) {
        Future f(r, shared_from_this());
        try {
            m.fn(f);
        } catch (...) {
            engineLog()->error("done callback of {} threw", r->key());
        }
        return;
    }
    r->ext().callbacks.push_back(std::move(m.fn));
}

void Engine::handle(ProgressMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (!r)
        return;
    if (m.isLog) {
        r->ext().logs.push_back(m.text);
        log::get("task")->info("{}: {}", r->key(), m.text);
    }
    if (wants(m.isLog ? EventKind::Log : EventKind::Progress)) {
        Event &e = newEvent();
        e.kind = m.isLog ? EventKind::Log : EventKind::Progress;
        e.task = r->id;
        e.worker = m.worker;
        e.attempt = r->attempt;
        e.value = m.value;
        if (!m.text.empty())
            e.detail().text = std::move(m.text);
        e.timeUs = wallClockUs();
    }
}

void Engine::handle(WantMsg &m)
{
    for (std::uint64_t id : m.ids)
        if (TaskRecord *r = lookup(id))
            recompute(r);
}

void Engine::handle(ReleaseMsg &m)
{
    TaskRecord *r = lookup(m.id);
    if (r)
        maybeForget(r);
}

void Engine::maybeForget(TaskRecord *r)
{
    if (r->state == TaskState::Forgotten)
        return;
    {
        // userRefs only rises under the registry lock (findFuture, dedup), so checking it
        // there makes the decision final.
        std::lock_guard lock(m_registryMutex);
        if (r->userRefs.load() > 0)
            return;
        if (r->holds == 0) {
            m_byKey.erase(r->key());
        } else {
            if (r->needs == 0 && r->state == TaskState::Memory && r->function) {
                // Nobody needs the value any more; keep the record for the graph.
                {
                    // Pending before the value goes, so no reader sees "finished" and no value.
                    std::lock_guard slock(stripe(r));
                    r->status.store(std::uint8_t(FutureStatus::Pending));
                    r->result = Value();
                }
                releaseOnWorker(r);
            } else {
                return;
            }
        }
    }
    if (r->holds > 0) {
        transition(r, TaskState::Released, -1, "result no longer needed");
        return;
    }
    forget(r);
}

void Engine::forget(TaskRecord *r)
{
    releaseOnWorker(r);
    // Still running somewhere (maybe cancelled meanwhile): keep the record until the worker
    // reports, because it points at the cancel flag.
    const bool processing
        = r->attempt > 0 && r->finishedAttempt != r->attempt && r->worker >= 0
          && (r->state == TaskState::Processing || r->state == TaskState::Cancelled
              || r->state == TaskState::Erred);
    if (processing)
        r->cancelRequested.store(true, std::memory_order_relaxed);
    transition(r, TaskState::Forgotten);
    std::vector<TaskRecord *> deps = std::move(r->deps);
    r->deps.clear();
    for (TaskRecord *d : deps) {
        if (d->holds > 0)
            --d->holds;
        if (r->countsNeeds && d->needs > 0)
            --d->needs;
    }
    r->countsNeeds = false;
    for (TaskRecord *d : deps)
        maybeForget(d);
    if (processing)
        r->pendingDelete = true; // the worker still points at its cancel flag
    else
        deleteRecord(r);
}

void Engine::recompute(TaskRecord *r)
{
    // A task whose result was dropped (or lost with its worker) is needed again: compute it
    // (and, first, whatever of its own inputs was dropped too).
    if ((r->state != TaskState::Released && r->state != TaskState::Lost) || !r->function)
        return;
    transition(r, TaskState::Waiting, -1, "needed again");
    if (!r->countsNeeds) {
        r->countsNeeds = true;
        for (TaskRecord *d : r->deps)
            ++d->needs;
    }
    r->waitingOn = 0;
    for (TaskRecord *d : r->deps) {
        recompute(d);
        if (d->state != TaskState::Memory)
            ++r->waitingOn;
    }
    if (r->waitingOn == 0)
        makeReady(r);
}

void Engine::deleteRecord(TaskRecord *r)
{
    m_tasks.erase(r->id);
    delete r;
}

void Engine::recountWaiting(TaskRecord *t)
{
    if (t->state != TaskState::Waiting && t->state != TaskState::Queued
        && t->state != TaskState::Held)
        return;
    std::uint32_t waiting = 0;
    for (const TaskRecord *d : t->deps)
        if (d->state != TaskState::Memory)
            ++waiting;
    t->waitingOn = waiting;
    if (waiting == 0 && t->state == TaskState::Waiting)
        makeReady(t);
    else if (waiting > 0 && (t->state == TaskState::Queued || t->state == TaskState::Held))
        transition(t, TaskState::Waiting, -1, "an input was lost");
}

} // namespace taskbench::detail
