// Submission on the scheduler thread: a SubmitMsg's records get their dependencies (from
// the references in their arguments), are announced (TasksAdded / TaskAdded, with their
// dependencies), registered and linked to their inputs, and start waiting or go to the ready
// queue.
#include "scheduler/engine_p.h"

#include <algorithm>
#include <unordered_set>

namespace taskbench::detail {

void Engine::handle(SubmitMsg &m)
{
    // Every task's deps first, so that TasksAdded (one event for the submit) has them and
    // comes before the tasks' first transitions; then each is registered as before.
    for (TaskRecord *r : m.tasks)
        resolveDeps(r);
    announceTasks(m);
    for (TaskRecord *r : m.tasks)
        registerTask(r);
    m.keepAlive.clear(); // the dependencies are linked now
}

void Engine::resolveDeps(TaskRecord *r)
{
    if (!r->function) // scattered data
        return;
    // Unique, in argument order. A reduction over a big map has one argument per task: past
    // a few, duplicates are found with a set, not by scanning.
    std::unordered_set<const TaskRecord *> linked;
    for (const Value &a : r->args) {
        a.forEachRef([&](const FutureRef &ref) {
            TaskRecord *dep = nullptr;
            {
                std::lock_guard lock(m_registryMutex);
                auto it = m_byKey.find(ref.key);
                if (it != m_byKey.end())
                    dep = it->second;
            }
            if (!dep)
                return;
            if (r->deps.size() < kLinearDepScan) {
                if (std::find(r->deps.begin(), r->deps.end(), dep) != r->deps.end())
                    return;
            } else {
                if (linked.empty())
                    linked.insert(r->deps.begin(), r->deps.end());
                if (!linked.insert(dep).second)
                    return;
            }
            r->deps.push_back(dep);
        });
    }
}

void Engine::announceTasks(SubmitMsg &m)
{
    if (!wants(EventKind::TasksAdded) || m.tasks.empty())
        return;
    // Listed at submit (ids and keys), or now for a submit made before anyone listened.
    std::shared_ptr<TaskList> list = std::move(m.listed);
    const bool listedAtSubmit = list != nullptr;
    if (!list) {
        list = std::make_shared<TaskList>();
        list->reserve(m.tasks.size(), 0);
    }
    for (std::size_t i = 0; i < m.tasks.size(); ++i) {
        const TaskRecord *r = m.tasks[i];
        if (!listedAtSubmit)
            list->add(r->id, r->key());
        for (const TaskRecord *d : r->deps)
            list->addDep(d->id);
        list->endDeps();
    }
    const TaskRecord *first = m.tasks.front();
    Event &e = newEvent();
    e.kind = EventKind::TasksAdded;
    e.task = first->id;
    e.timeUs = wallClockUs();
    EventDetail &d = e.detail();
    d.function = first->functionName();
    d.group = first->group;
    d.tasks = std::move(list);
}

void Engine::announceTask(TaskRecord *r)
{
    if (!wants(EventKind::TaskAdded))
        return;
    Event &e = newEvent();
    e.kind = EventKind::TaskAdded;
    e.task = r->id;
    e.timeUs = wallClockUs();
    e.to = TaskState::Released;
    // Shared with the record (made at submit, see TaskRecord::info), or made now for a task
    // submitted before anyone listened. Its deps are filled in here, before anyone else
    // sees it, and never touched again.
    std::shared_ptr<EventDetail> info = r->info;
    if (!info) {
        info = std::make_shared<EventDetail>();
        info->key = r->key();
        info->function = r->functionName();
        info->group = r->group;
    }
    info->deps.reserve(r->deps.size());
    for (const TaskRecord *d : r->deps)
        info->deps.push_back(d->id);
    e.setDetail(std::move(info));
}

void Engine::registerTask(TaskRecord *r)
{
    r->registered = true;
    m_tasks.emplace(r->id, r);
    if (!r->function) { // scattered data: in memory at once
        announceTask(r);
        finish(r, Value(r->result));
        return;
    }
    for (TaskRecord *dep : r->deps) {
        dep->dependents.push_back(r->id);
        ++dep->holds;
        ++dep->needs;
    }
    r->countsNeeds = true;
    announceTask(r);
    transition(r, TaskState::Waiting);
    // A dependency that already failed or was cancelled decides at once.
    for (TaskRecord *d : r->deps) {
        if (d->state == TaskState::Erred) {
            TaskError e = d->error ? *d->error : TaskError{};
            if (!e.fromDependency) {
                e.rootKey = d->key();
                e.rootFunction = d->function ? d->function->qualifiedName : "";
            }
            e.fromDependency = true;
            fail(r, std::move(e));
            return;
        }
        if (d->state == TaskState::Cancelled || d->state == TaskState::Lost) {
            cancelTask(r, "a dependency was cancelled");
            return;
        }
        recompute(d); // its result was dropped: compute it again
    }
    waitForDeps(r);
}

} // namespace taskbench::detail
