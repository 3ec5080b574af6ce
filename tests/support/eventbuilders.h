// Engine events made by hand for the model and view tests, one builder per kind with the
// fields those tests set (everything else keeps Event's defaults). Header-only: it needs
// nothing but taskbench/events.h.
#pragma once

#include "taskbench/events.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace testsupport {

/// TaskAdded; the group defaults to the function, the time to a fixed epoch + id.
inline taskbench::Event taskAdded(std::uint64_t id,
                                  const std::string &key,
                                  const std::string &function,
                                  std::vector<std::uint64_t> deps = {},
                                  const std::string &group = {})
{
    taskbench::Event e;
    e.kind = taskbench::EventKind::TaskAdded;
    e.task = id;
    e.detail().key = key;
    e.detail().function = function;
    e.detail().group = std::make_shared<const std::string>(group.empty() ? function : group);
    e.detail().deps = std::move(deps);
    e.timeUs = 1'700'000'000'000'000 + std::int64_t(id);
    return e;
}

/// A transition with its note ("retry", "dependency failed", ...).
inline taskbench::Event transition(std::uint64_t task,
                                   taskbench::TaskState from,
                                   taskbench::TaskState to,
                                   std::string note = {})
{
    taskbench::Event e;
    e.kind = taskbench::EventKind::Transition;
    e.task = task;
    e.from = from;
    e.to = to;
    e.detail().text = std::move(note);
    return e;
}

/// A transition on a worker, in an attempt.
inline taskbench::Event transition(
    std::uint64_t task, taskbench::TaskState from, taskbench::TaskState to, int worker, int attempt)
{
    taskbench::Event e = transition(task, from, to);
    e.worker = worker;
    e.attempt = attempt;
    return e;
}

inline taskbench::Event
executionStarted(std::uint64_t task, int worker, std::int64_t timeUs, int attempt = 1)
{
    taskbench::Event e;
    e.kind = taskbench::EventKind::ExecutionStarted;
    e.task = task;
    e.worker = worker;
    e.attempt = attempt;
    e.timeUs = timeUs;
    return e;
}

inline taskbench::Event executionFinished(std::uint64_t task,
                                          int worker,
                                          int thread,
                                          std::int64_t startUs,
                                          std::int64_t endUs,
                                          bool ok = true)
{
    taskbench::Event e;
    e.kind = taskbench::EventKind::ExecutionFinished;
    e.task = task;
    e.worker = worker;
    e.thread = thread;
    e.attempt = 1;
    e.startUs = startUs;
    e.timeUs = endUs;
    e.ok = ok;
    return e;
}

/// WorkerAdded, named "thread-worker-N".
inline taskbench::Event workerAdded(int worker, int threads)
{
    taskbench::Event e;
    e.kind = taskbench::EventKind::WorkerAdded;
    e.worker = worker;
    e.value = threads;
    e.detail().text = "thread-worker-" + std::to_string(worker);
    return e;
}

/// PriorityChanged: the task's priority set after submit.
inline taskbench::Event priorityChanged(std::uint64_t task, std::int64_t priority)
{
    taskbench::Event e;
    e.kind = taskbench::EventKind::PriorityChanged;
    e.task = task;
    e.value = priority;
    return e;
}

} // namespace testsupport
