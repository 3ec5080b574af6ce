// Names of task states and future statuses, the mapping between the two, and the one-line
// description of a task's error.
#include "taskbench/taskstate.h"

namespace taskbench {

const char *toString(TaskState state)
{
    switch (state) {
    case TaskState::Released:
        return "released";
    case TaskState::Waiting:
        return "waiting";
    case TaskState::Queued:
        return "queued";
    case TaskState::Processing:
        return "processing";
    case TaskState::Memory:
        return "memory";
    case TaskState::Erred:
        return "erred";
    case TaskState::Cancelled:
        return "cancelled";
    case TaskState::Lost:
        return "lost";
    case TaskState::Forgotten:
        return "forgotten";
    case TaskState::Held:
        return "held";
    }
    return "unknown";
}

const char *toString(FutureStatus status)
{
    switch (status) {
    case FutureStatus::Pending:
        return "pending";
    case FutureStatus::Processing:
        return "processing";
    case FutureStatus::Finished:
        return "finished";
    case FutureStatus::Error:
        return "error";
    case FutureStatus::Cancelled:
        return "cancelled";
    case FutureStatus::Lost:
        return "lost";
    case FutureStatus::Held:
        return "held";
    }
    return "unknown";
}

FutureStatus futureStatusOf(TaskState state)
{
    switch (state) {
    case TaskState::Released:
    case TaskState::Waiting:
    case TaskState::Queued:
        return FutureStatus::Pending;
    case TaskState::Processing:
        return FutureStatus::Processing;
    case TaskState::Memory:
        return FutureStatus::Finished;
    case TaskState::Erred:
        return FutureStatus::Error;
    case TaskState::Cancelled:
        return FutureStatus::Cancelled;
    case TaskState::Lost:
        return FutureStatus::Lost;
    case TaskState::Forgotten:
        // Dask reports a future whose key the scheduler forgot as cancelled.
        return FutureStatus::Cancelled;
    case TaskState::Held:
        return FutureStatus::Held;
    }
    return FutureStatus::Pending;
}

bool isTerminal(FutureStatus status)
{
    switch (status) {
    case FutureStatus::Finished:
    case FutureStatus::Error:
    case FutureStatus::Cancelled:
    case FutureStatus::Lost:
        return true;
    case FutureStatus::Pending:
    case FutureStatus::Processing:
    case FutureStatus::Held:
        return false;
    }
    return false;
}

std::string TaskError::describe() const
{
    std::string text;
    if (type.empty() && message.empty())
        text = "unknown error";
    else if (type.empty())
        text = message;
    else if (message.empty())
        text = type;
    else
        text = type + ": " + message;
    if (fromDependency && !rootKey.empty())
        text += " (in dependency " + rootKey + ")";
    return text;
}

} // namespace taskbench
