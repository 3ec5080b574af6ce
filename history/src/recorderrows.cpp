// Folding events and tracked futures into the recorder's rows (see recorderrows_p.h).
#include "recorderrows_p.h"

#include "taskbench/logging.h"
#include "taskbench/resultcache.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <chrono>

namespace taskbench::history {

SessionRows::SessionRows(Client &c, const RecorderOptions &o)
    : client(c)
    , registry(c.functionRegistry())
    , options(o)
{}

bool SessionRows::changed() const
{
    return !dirty.empty() || !logs.empty() || !dirtyWorkers.empty() || !dirtyPlugins.empty()
           || !storyAppends.empty();
}

void SessionRows::archiveIfDone(std::uint64_t id, const Row &r)
{
    // Finished and handed over: only a lost result (recomputed) or a released one (a step
    // appended, see apply()) would change it again. Erred, cancelled and lost tasks stay:
    // a user retries those, and reading many rows back would slow the recorder down.
    if (load && r.tracked && r.committed && !r.dirty && !r.future.valid()
        && r.status() == FutureStatus::Finished)
        rows.archive(id);
}

void SessionRows::settleUnseen(bool everything)
{
    if (everything) // no event will come for these: their rows are made now
        for (const std::uint64_t id : parked.ids())
            row(id);
    std::erase_if(unseen, [&](std::uint64_t id) {
        Row *r = rows.find(id);
        if (!r || !r->story.empty() || !r->future.valid())
            return true;
        if (!everything)
            return false;
        takeStateFromFuture(*r);
        if (r->terminal())
            capture(*r);
        markDirty(id, *r);
        return true;
    });
}

Row &SessionRows::row(std::uint64_t id)
{
    bool inserted = false;
    Row &r = rows.archived(id) ? restore(id) : rows.at(id, inserted);
    if (std::optional<TrackParking::Parked> p = parked.take(id))
        adopt(id, r, std::move(p->future), p->optionsJson);
    return r;
}

namespace {

template <typename Enum, int Count>
Enum parseName(const std::string &name, Enum fallback)
{
    for (int i = 0; i < Count; ++i)
        if (name == toString(Enum(i)))
            return Enum(i);
    return fallback;
}

} // namespace

Row &SessionRows::restore(std::uint64_t id)
{
    bool inserted = false;
    Row &r = rows.at(id, inserted);
    const std::optional<TaskRecord> t = load ? load(id) : std::nullopt;
    if (!t) { // not found (the database was changed under us): the row starts again
        log::get("history")->warn("task {} of this session is no longer in the history", id);
        return r;
    }
    auto info = std::make_shared<EventDetail>();
    info->key = t->key;
    info->function = t->function;
    if (!t->group.empty())
        info->group = std::make_shared<const std::string>(t->group);
    info->deps = t->deps;
    r.info = std::move(info);
    if (!t->optionsJson.empty())
        r.optionsJson = std::make_shared<const std::string>(t->optionsJson);
    r.argsJson = t->argsJson;
    r.resultJson = t->resultJson;
    if (!t->resultType.empty())
        r.resultType = &*typeNames.insert(t->resultType).first;
    r.resultSize = t->resultSize;
    r.resultStored = t->resultStored;
    r.cachedFrom = std::int32_t(std::clamp<std::int64_t>(t->cachedFrom, -1, INT32_MAX));
    for (const TransitionRecord &step : t->story)
        r.story.push_back(Step::of(step));
    for (const AttemptRecord &a : t->runs)
        r.runs.push_back(a);
    r.submittedUs = t->submittedUs;
    r.startedUs = t->startedUs;
    r.finishedUs = t->finishedUs;
    r.attempts = t->attempts;
    r.worker = t->worker;
    r.state = parseName<TaskState, kTaskStateCount>(t->state, TaskState::Memory);
    r.committedStatus
        = parseName<FutureStatus, kFutureStatusCount>(t->status, FutureStatus::Finished);
    r.committed = true;
    r.tracked = true;
    // Steps that came while it was archived and are not written yet belong to its story now.
    std::erase_if(storyAppends, [&](const std::pair<std::uint64_t, Step> &a) {
        if (a.first != id)
            return false;
        r.story.push_back(a.second);
        return true;
    });
    return r;
}

void SessionRows::markDirty(std::uint64_t id, Row &r)
{
    if (!r.dirty) {
        r.dirty = true;
        dirty.push_back(id);
    }
}

void SessionRows::applyStep(std::uint64_t task, const Step &step)
{
    if (step.to == TaskState::Forgotten)
        return; // released by everyone: the row keeps its last real state
    if (step.to == TaskState::Released && rows.archived(task)) {
        // A finished task's result let go (below): one more step for its story, written
        // without reading the row back.
        storyAppends.emplace_back(task, step);
        return;
    }
    Row &r = row(task);
    r.story.push_back(step);
    if (step.to == TaskState::Released && r.terminal()) {
        // Its result let go while a dependent keeps it in the graph: the story says so, and
        // the row stays what the task came to (it is not pending again unless it is
        // computed again).
        markDirty(task, r);
        return;
    }
    r.state = step.to;
    r.attempts = std::max(r.attempts, int(step.attempt));
    if (step.to == TaskState::Processing) { // assigned: as ExecutionStarted says
        r.worker = step.worker;
        if (r.startedUs == 0)
            r.startedUs = step.timeUs;
    }
    if (r.terminal()) {
        r.finishedUs = step.timeUs;
        // Finished again after a retry: the future was let go at the first outcome (see
        // capture()), so look the task up once more for its new result.
        if (!r.future.valid() && r.tracked && step.to == TaskState::Memory && r.info)
            r.future = client.findFuture(r.key());
        capture(r);
    }
    markDirty(task, r);
}

void SessionRows::applyRun(std::uint64_t task, const AttemptRecord &run)
{
    Row &r = row(task);
    r.runs.push_back(run);
    r.worker = run.worker;
    markDirty(task, r);
}

void SessionRows::applyCacheHit(std::uint64_t task, std::int64_t session)
{
    Row &r = row(task);
    r.cachedFrom = std::int32_t(std::clamp<std::int64_t>(session, 0, INT32_MAX));
    markDirty(task, r);
}

std::int64_t cacheHitSessionOf(const Event &e)
{
    // Only a transition to memory with a note can be a hit: most events have neither.
    if (e.kind != EventKind::Transition || e.to != TaskState::Memory || !e.sharedDetail())
        return -1;
    return cacheHitSession(e.text());
}

void SessionRows::apply(const Event &e)
{
    switch (e.kind) {
    case EventKind::Transition:
        applyStep(e.task, Step::of(e));
        if (const std::int64_t from = cacheHitSessionOf(e); from >= 0)
            applyCacheHit(e.task, from);
        break;
    case EventKind::ExecutionStarted: {
        Row &r = row(e.task);
        r.worker = e.worker;
        if (r.startedUs == 0)
            r.startedUs = e.timeUs;
        markDirty(e.task, r);
        break;
    }
    case EventKind::ExecutionFinished:
        applyRun(e.task,
                 AttemptRecord{e.attempt, e.worker, e.thread, e.startUs, e.timeUs, e.ok, e.usage});
        break;
    case EventKind::TasksAdded:
        applyTasksAdded(e, IdRange{});
        break;
    case EventKind::TaskAdded:
        break; // made for another subscriber: this one reads TasksAdded
    case EventKind::Log:
        logs.push_back(LogRecord{e.task, e.timeUs, e.text()});
        break;
    case EventKind::WorkerAdded: {
        WorkerRecord &w = workers[e.worker];
        w.id = e.worker;
        w.name = e.text();
        w.threads = int(e.value);
        w.addedUs = e.timeUs;
        dirtyWorkers.insert(e.worker);
        break;
    }
    case EventKind::WorkerRemoved: {
        WorkerRecord &w = workers[e.worker];
        w.id = e.worker;
        w.removedUs = e.timeUs;
        w.removedReason = e.text();
        dirtyWorkers.insert(e.worker);
        break;
    }
    case EventKind::Steering: // paused, resumed, a breakpoint: in the session's log
        logs.push_back(LogRecord{0, e.timeUs, e.text()});
        break;
    case EventKind::Progress:
    case EventKind::PriorityChanged:
        break; // transient: the final state and logs tell the story
    }
}

void SessionRows::applyTasksAdded(const Event &e, const IdRange &range)
{
    const std::shared_ptr<const EventDetail> submit = e.sharedDetail();
    const TaskList &tasks = *e.tasks();
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        const std::uint64_t id = tasks.id(i);
        if (!range.contains(id))
            continue;
        Row &r = row(id);
        r.info = submit;
        r.index = std::uint32_t(i);
        r.submittedUs = e.timeUs;
        markDirty(id, r);
    }
    notePlugin(e.function());
}

void SessionRows::apply(TrackItem &item, const IdRange &range)
{
    // Default options are stored as "" (most tasks of a big map): fewer bytes per row.
    const SubmitOptions defaults;
    const bool plain = item.options.retries == defaults.retries
                       && item.options.priority == defaults.priority
                       && item.options.pure == defaults.pure && item.options.kwargs.empty()
                       && !item.options.timeout;
    Value::Map kwargs = item.options.kwargs;
    Value::Map opts{{"retries", item.options.retries},
                    {"priority", item.options.priority},
                    {"pure", item.options.pure},
                    {"kwargs", Value(std::move(kwargs))}};
    if (item.options.timeout)
        opts["timeout_ms"] = static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(*item.options.timeout).count());
    const auto optionsJson
        = plain ? nullptr : std::make_shared<const std::string>(toJson(Value(std::move(opts))));
    // Moved, not copied: a copy of a Future touches its task's and its engine's reference
    // counts, cache lines the caller and the scheduler are using at the same time. A task
    // with no row yet is parked until its first event makes one (TrackParking).
    bool parking = false;
    for (Future &f : item.futures) {
        if (!f.valid() || !range.contains(f.id()))
            continue;
        const std::uint64_t id = f.id();
        if (rows.find(id) || rows.archived(id)) {
            adopt(id, row(id), std::move(f), optionsJson);
            continue;
        }
        if (!parking) {
            parked.beginList(optionsJson);
            parking = true;
        }
        parked.park(id, std::move(f));
    }
}

void SessionRows::adopt(std::uint64_t id,
                        Row &r,
                        Future future,
                        const std::shared_ptr<const std::string> &optionsJson)
{
    try {
        // As submitted: asking the scheduler for the current ones would cost a round trip
        // per task of a big map (and edits happen after tracking anyway).
        r.argsJson = toJson(Value(future.submittedArguments()));
    } catch (const std::exception &) {
        r.argsJson.clear();
    }
    r.optionsJson = optionsJson;
    r.future = std::move(future);
    r.tracked = true;
    if (r.story.empty())
        unseen.push_back(id); // its events may still come; see write()
    if (r.terminal())
        capture(r);
    markDirty(id, r);
}

void SessionRows::takeStateFromFuture(Row &r)
{
    // No transition seen: it happened before the recording started, and only the future
    // says how far the task got (Pending leaves the row as it is).
    const FutureStatus status = r.future.status();
    for (TaskState s : {TaskState::Processing,
                        TaskState::Memory,
                        TaskState::Erred,
                        TaskState::Cancelled,
                        TaskState::Lost})
        if (futureStatusOf(s) == status)
            r.state = s;
}

void SessionRows::identify(Row &r)
{
    if (r.info || !r.future.valid())
        return;
    // No TasksAdded came (submitted before the recording started): the future names it.
    auto info = std::make_shared<EventDetail>();
    info->key = r.future.key();
    info->function = r.future.function();
    r.info = std::move(info);
}

void SessionRows::capture(Row &r)
{
    if (!r.future.valid())
        return;
    identify(r);
    const FutureStatus status = r.future.status();
    if (status == FutureStatus::Finished) {
        try {
            const Value v = r.future.result(std::chrono::seconds(0));
            std::string json = toJson(v);
            r.resultType = &*typeNames.insert(v.typeName()).first;
            r.resultSize = std::int64_t(json.size());
            r.resultStored = json.size() <= options.resultLimitBytes;
            r.resultJson = r.resultStored ? std::move(json) : std::string();
        } catch (const std::exception &) {
            r.future = Future(); // gone again (lost): the state says so
            return;
        }
        r.failure.reset();
    } else if (status == FutureStatus::Error) {
        auto failure = std::make_unique<Failure>();
        if (const std::optional<TaskError> e = r.future.error()) {
            failure->type = e->type;
            failure->message = e->message;
            failure->root = e->rootKey;
            failure->traceback = e->traceback;
        }
        if (options.session.processes)
            failure->output = client.output(r.future);
        r.failure = std::move(failure);
        r.resultStored = false;
        r.resultJson.clear();
        r.resultType = nullptr;
        r.resultSize = -1;
    }
    // Recorded: the recorder must never be what keeps a task alive (a released erred task
    // is forgotten as if nobody recorded it). A later retry that finishes is looked up again
    // by key (apply()).
    r.future = Future();
}

void SessionRows::notePlugin(const std::string &function)
{
    if (!seenFunctions.insert(function).second)
        return;
    const FunctionPtr f = registry ? registry->find(function) : nullptr;
    if (!f)
        return;
    const auto id = std::make_pair(f->plugin, f->pluginPath);
    auto [it, inserted] = plugins.try_emplace(id);
    PluginUse &p = it->second;
    if (inserted) {
        p.name = f->plugin;
        p.version = f->pluginVersion;
        p.path = f->pluginPath;
    }
    p.functions.push_back(function);
    dirtyPlugins.insert(id);
}
} // namespace taskbench::history
