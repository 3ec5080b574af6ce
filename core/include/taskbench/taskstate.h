// Task states (Dask's scheduler vocabulary), the status users see, and a task's story.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace taskbench {

/// The scheduler's states. Every change is one transition event and one history entry.
enum class TaskState : std::uint8_t {
    Released,   ///< known, not yet considered
    Waiting,    ///< waiting for dependencies
    Queued,     ///< ready, waiting for a worker slot
    Processing, ///< assigned to / running on a worker
    Memory,     ///< finished, result held
    Erred,      ///< failed (own error or a dependency's)
    Cancelled,  ///< cancelled by the user (or a dependency was)
    Lost,       ///< result lost (its worker died) and not recomputable
    Forgotten,  ///< released by everyone; gone
    /// Ready, but held by a breakpoint until the user releases it (see steering.h). Last, so
    /// that the numbers of the others (in history databases) stay as they were.
    Held,
};
inline constexpr int kTaskStateCount = 10;

/// What a Future reports (Dask's future.status, plus "processing" and "held": waiting at a
/// breakpoint). Held is last so that the others keep their numbers.
enum class FutureStatus : std::uint8_t {
    Pending,
    Processing,
    Finished,
    Error,
    Cancelled,
    Lost,
    Held
};
inline constexpr int kFutureStatusCount = 7;

const char *toString(TaskState state);
const char *toString(FutureStatus status);
FutureStatus futureStatusOf(TaskState state);
bool isTerminal(FutureStatus status);

/// One entry of a task's story.
struct Transition
{
    TaskState from = TaskState::Released;
    TaskState to = TaskState::Released;
    std::int64_t timeUs = 0; ///< wall-clock microseconds since the Unix epoch
    int worker = -1;         ///< worker involved, -1 if none
    int attempt = 0;         ///< attempt number at the time (1 = first run)
    const char *note = "";   ///< why, when not obvious ("retry", "cancelled by user")
};

/// What one attempt used, as its worker measured it (see README "Forensics for native
/// tasks"); -1 where unknown. Process workers measure all three; thread workers share one
/// address space with everything else, so their peak memory is unknown.
struct AttemptUsage
{
    /// The worker process's peak resident memory while the attempt ran (VmHWM, reset
    /// before it), bytes.
    std::int64_t peakRssBytes = -1;
    std::int64_t cpuUs = -1;       ///< CPU time of the thread that ran it, microseconds
    std::int64_t resultBytes = -1; ///< the result's encoded (CBOR) size; -1 if it failed
};

/// One finished attempt's figures (Client::attemptUsage).
struct AttemptFigures
{
    int attempt = 0;
    AttemptUsage usage;
};

/// What Client::details() reads of one task (the parts not asked for stay empty).
struct TaskDetails
{
    enum Parts : unsigned { Story = 1, Logs = 2, AttemptUsage = 4, Output = 8, All = 15 };
    std::vector<Transition> story;
    std::vector<std::string> logs;
    std::vector<AttemptFigures> attemptUsage;
    std::string output;
};

/// Why a task failed. For an error propagated from a dependency, rootKey names the task that
/// failed first and type/message are its error.
struct TaskError
{
    std::string type;    ///< "ValueError", "std::runtime_error", "WorkerDied", "TimedOut", ...
    std::string message; ///< the exception's message
    std::string rootKey; ///< the task whose own failure this is
    std::string rootFunction;
    bool fromDependency = false; ///< true when this task erred because rootKey did
    int worker = -1;             ///< worker that ran the failing attempt
    int attempts = 0;            ///< attempts made by the failing task
    std::string traceback;       ///< where it happened (function, key, arguments)

    /// "ValueError: You hit the error!" (plus " (in dependency flaky_inc-...)" if propagated)
    std::string describe() const;
};

} // namespace taskbench
