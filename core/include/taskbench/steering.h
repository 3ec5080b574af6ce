// Steering a running cluster: pausing it, breakpoints that hold tasks before they start, and
// the vocabulary of Client's steering calls (pause, resume, addBreakpoint, release, step,
// setPriority, runNext, killNow). Every change is an event (EventKind::Steering) or a task
// transition, so that every view of the cluster stays right.
#pragma once

#include <string>

namespace taskbench {

/// How Client::pause treats the tasks that are running when it is called.
enum class PauseMode {
    /// Running tasks (and those already handed to a worker) finish; nothing new starts.
    Drain,
    /// Running tasks are asked to stop (cooperatively: a task that checks
    /// TaskContext::cancelled() returns early) and queued again; an attempt stopped this way
    /// counts no failure and no retry. A task that does not check finishes as with Drain.
    Now,
};

/// Holds matching tasks when they become ready, before they start (state Held). A held task
/// waits for Client::release, releaseAll or step; it is held again on a later attempt that
/// matches (a retry).
struct Breakpoint
{
    enum class Match {
        Key,      ///< the task's key, exactly
        Function, ///< the qualified function name ("tutorial.add")
        Group,    ///< the task group (a map call's, or an explicit SubmitOptions::group)
    };
    Match match = Match::Function;
    std::string pattern;
    /// Hold only from this attempt on: 2 catches the first retry and leaves first runs alone.
    int minAttempt = 1;
    int id = 0; ///< set by Client::addBreakpoint

    /// "function tutorial.add", "key inc-1f2e, attempt >= 2"
    std::string describe() const;
};

const char *toString(Breakpoint::Match match);

} // namespace taskbench
