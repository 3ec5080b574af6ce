// Recorded session -> event batch (see replay.h).
#include "taskbench/history/replay.h"

#include "taskbench/resultcache.h"

#include <algorithm>
#include <map>

namespace taskbench::history {

EventBatch replayEvents(const std::vector<TaskRecord> &tasks,
                        const std::vector<WorkerRecord> &workers)
{
    EventBatch added;
    EventBatch timed;
    added.reserve(tasks.size());
    for (const WorkerRecord &w : workers) {
        Event e;
        e.kind = EventKind::WorkerAdded;
        e.worker = w.id;
        e.detail().text = w.name;
        e.value = w.threads;
        e.timeUs = w.addedUs;
        timed.push_back(std::move(e));
        if (w.removedUs > 0) {
            Event r;
            r.kind = EventKind::WorkerRemoved;
            r.worker = w.id;
            r.detail().text = w.removedReason;
            r.timeUs = w.removedUs;
            timed.push_back(std::move(r));
        }
    }
    std::vector<const TaskRecord *> ordered;
    ordered.reserve(tasks.size());
    for (const TaskRecord &t : tasks)
        ordered.push_back(&t);
    std::sort(ordered.begin(), ordered.end(), [](const TaskRecord *a, const TaskRecord *b) {
        return a->id < b->id;
    });
    std::map<std::string, std::shared_ptr<const std::string>> groups; // one string per group
    for (const TaskRecord *t : ordered) {
        std::shared_ptr<const std::string> &group = groups[t->group];
        if (!group)
            group = std::make_shared<const std::string>(t->group);
        Event e;
        e.kind = EventKind::TaskAdded;
        e.task = t->id;
        e.detail().key = t->key;
        e.detail().function = t->function;
        e.detail().group = group;
        e.detail().deps = t->deps;
        e.timeUs = t->submittedUs;
        added.push_back(std::move(e));
        for (const TransitionRecord &tr : t->story) {
            Event x;
            x.kind = EventKind::Transition;
            x.task = t->id;
            x.from = tr.from;
            x.to = tr.to;
            x.worker = tr.worker;
            x.attempt = tr.attempt;
            x.timeUs = tr.timeUs;
            // The note the live transition had: the futures table shows the task cached.
            if (t->cached() && tr.to == TaskState::Memory && t->runs.empty())
                x.detail().text = cacheHitNote(t->cachedFrom);
            timed.push_back(std::move(x));
        }
        for (const AttemptRecord &r : t->runs) {
            Event s;
            s.kind = EventKind::ExecutionStarted;
            s.task = t->id;
            s.worker = r.worker;
            s.attempt = r.attempt;
            s.timeUs = r.startUs;
            timed.push_back(s);
            Event f;
            f.kind = EventKind::ExecutionFinished;
            f.task = t->id;
            f.worker = r.worker;
            f.thread = r.thread;
            f.attempt = r.attempt;
            f.startUs = r.startUs;
            f.timeUs = r.endUs;
            f.ok = r.ok;
            f.usage = r.usage; // the recorded session's Memory and Size columns
            timed.push_back(std::move(f));
        }
    }
    // Stable: a task's own events keep their recorded order when their times are equal.
    std::stable_sort(timed.begin(), timed.end(), [](const Event &a, const Event &b) {
        return a.timeUs < b.timeUs;
    });
    added.insert(
        added.end(), std::make_move_iterator(timed.begin()), std::make_move_iterator(timed.end()));
    return added;
}

} // namespace taskbench::history
