// Dispatch: each scheduler round hands the ready queue (by priority) to the workers, up to
// each one's queue depth, on the worker placement.h picks; starts the transfer of inputs held
// only elsewhere, and turns a ready task into an Assignment with its references resolved.
#include "scheduler/engine_p.h"
#include "scheduler/placement.h"

#include <unordered_map>

namespace taskbench::detail {

namespace {

/// A task's dependencies by key: scanned when they are few, indexed past kLinearDepScan (a
/// reduction over a big map refers to one per element).
class DependencyKeys
{
public:
    explicit DependencyKeys(const std::vector<TaskRecord *> &deps)
        : m_deps(deps)
    {
        if (deps.size() < kLinearDepScan)
            return;
        m_index.reserve(deps.size());
        for (const TaskRecord *d : deps)
            m_index.emplace(d->key(), d);
    }
    const TaskRecord *find(const std::string &key) const
    {
        if (!m_index.empty()) {
            const auto it = m_index.find(key);
            return it == m_index.end() ? nullptr : it->second;
        }
        for (const TaskRecord *d : m_deps)
            if (d->key() == key)
                return d;
        return nullptr;
    }

private:
    const std::vector<TaskRecord *> &m_deps;
    std::unordered_map<std::string_view, const TaskRecord *> m_index;
};

/// An argument with its references replaced by the dependencies' values (or, for a value
/// held by a remote worker, by a reference to it there).
Value resolveValue(const Value &v, const DependencyKeys &deps)
{
    switch (v.type()) {
    case Value::Type::Ref: {
        const TaskRecord *d = deps.find(v.toRef().key);
        if (!d)
            return Value();
        return d->remote ? Value::ref("#" + std::to_string(d->id)) : d->result;
    }
    case Value::Type::List: {
        Value::List out;
        out.reserve(v.toList().size());
        for (const Value &item : v.toList())
            out.push_back(item.containsRef() ? resolveValue(item, deps) : item);
        return Value(std::move(out));
    }
    case Value::Type::Map: {
        Value::Map out;
        for (const auto &[k, item] : v.toMap())
            out.emplace(k, item.containsRef() ? resolveValue(item, deps) : item);
        return Value(std::move(out));
    }
    default:
        return v;
    }
}

} // namespace

void Engine::schedule()
{
    if (m_readyCount == 0 || m_stopping || m_paused)
        return;
    std::vector<WorkerBackend *> workers;
    for (auto &w : m_workers)
        workers.push_back(w.get());
    if (workers.empty()) {
        if (!m_workerStartError.empty())
            failUnrunnable();
        return;
    }
    std::vector<std::vector<Assignment>> batches(workers.size());
    assignReady(workers, batches);
    for (std::size_t i = 0; i < workers.size(); ++i)
        if (!batches[i].empty())
            workers[i]->execute(std::move(batches[i]));
}

void Engine::assignReady(const std::vector<WorkerBackend *> &workers,
                         std::vector<std::vector<Assignment>> &batches)
{
    const bool events = wants(EventKind::ExecutionStarted);
    std::vector<placement::Candidate> candidates(workers.size());
    auto it = m_ready.begin();
    while (it != m_ready.end()) {
        auto &queue = it->second;
        while (!queue.empty()) {
            TaskRecord *r = lookup(queue.front().id);
            // Cancelled, forgotten or queued again under another priority meanwhile.
            if (!r || r->state != TaskState::Queued || r->readySeq != queue.front().seq) {
                queue.pop_front();
                --m_readyCount;
                continue;
            }
            const auto mean = m_meanDurationUs.find(r->function.get());
            const std::size_t depth = placement::queueDepth(
                mean == m_meanDurationUs.end() ? placement::kUnmeasuredUs : mean->second);
            for (std::size_t i = 0; i < workers.size(); ++i) {
                placement::Candidate &c = candidates[i];
                c.outstanding = workers[i]->outstanding;
                c.threads = workers[i]->threads();
                c.localBytes = 0;
                for (const TaskRecord *d : r->deps)
                    if (d->holder == workers[i]->id())
                        c.localBytes += d->remote ? d->remoteBytes + 1 : 1;
            }
            const std::size_t best = placement::choose(candidates, depth);
            if (best == placement::kNone)
                return; // everyone is full: the rest waits for the next round
            WorkerBackend *w = workers[best];
            // Inputs held only on another worker travel through the scheduler first.
            bool missing = false;
            for (TaskRecord *d : r->deps) {
                if (d->remote && d->holder != w->id()) {
                    missing = true;
                    if (!d->fetching) {
                        d->fetching = true;
                        if (WorkerBackend *h = workerById(d->holder))
                            h->fetch({d->id});
                    }
                }
            }
            queue.pop_front();
            --m_readyCount;
            if (missing) {
                // Back in line once the transfer arrives (FetchedMsg re-queues it).
                transition(r, TaskState::Waiting, -1, "fetching inputs");
                r->waitingOn = 1;
                continue;
            }
            ++w->outstanding;
            ++r->attempt;
            r->worker = w->id();
            r->cancelRequested.store(false, std::memory_order_relaxed);
            transition(r, TaskState::Processing, w->id());
            if (events) {
                Event &e = newEvent();
                e.kind = EventKind::ExecutionStarted;
                e.task = r->id;
                e.worker = w->id();
                e.attempt = r->attempt;
                e.timeUs = r->history.back().timeUs; // the Processing transition's
            }
            Assignment a;
            a.task = r->id;
            a.attempt = r->attempt;
            a.function = r->function;
            a.args = resolveArgs(r);
            a.key = r->key();
            a.cancel = &r->cancelRequested;
            if (r->timeoutUs > 0)
                addTimer(steadyUs() + r->timeoutUs, TimerKind::TaskTimeout, r, w->id());
            batches[best].push_back(std::move(a));
        }
        it = m_ready.erase(it);
    }
}

std::vector<Value> Engine::resolveArgs(const TaskRecord *r) const
{
    const std::vector<Value> &args = currentArgs(r);
    if (r->deps.empty())
        return args;
    const DependencyKeys deps(r->deps);
    std::vector<Value> out;
    out.reserve(args.size());
    for (const Value &a : args)
        out.push_back(a.containsRef() ? resolveValue(a, deps) : a);
    return out;
}

} // namespace taskbench::detail
