// Comparing two recorded sessions task by task: what got slower or faster, which results
// changed, what newly fails and what was fixed. Tasks are matched by key (pure keys are the
// same in every run); tasks left over (non-pure keys, random map groups) are matched by
// function, map group and position in it. Plain data plus CSV/JSON renderings, no widgets,
// so the CLI and the GUI show the same comparison.
#pragma once

#include "taskbench/history/historystore.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace taskbench::history {

/// How a task's result in A relates to its result in B.
enum class ResultMatch {
    Equal,     ///< both stored and their hashes agree
    Different, ///< both present and their hashes (or types) differ
    Unknown,   ///< a result is missing or was not stored (over the history's size limit)
};

const char *resultMatchName(ResultMatch m); ///< "equal", "different", "unknown"

/// One side of a matched task (absent when the task is only in the other session).
struct CompareSide
{
    std::uint64_t id = 0;
    std::string status;           ///< FutureStatus name
    std::int64_t durationUs = -1; ///< the last attempt's start to end (run time, not the wait for a
                                  ///< retry); -1 if it never ran to an end
    std::string resultHash;       ///< SHA-256 hex of the stored result JSON; "" if not stored
    std::string resultType;
    std::string error; ///< "Type: message"; "" if none
    /// Served from the result cache: the session that computed it (0 unknown); -1 if it ran.
    /// A cached task has no duration, so it is in no ratio.
    std::int64_t cachedFrom = -1;

    bool cached() const { return cachedFrom >= 0; }
};

struct TaskComparison
{
    std::string key; ///< A's key (B's when only in B)
    std::string function;
    std::string matchedBy; ///< "key", "position" (function + group position), "" (unmatched)
    std::optional<CompareSide> a;
    std::optional<CompareSide> b;
    double ratio = -1; ///< B duration / A duration (0 us read as 1 us); -1 if either is unknown
    ResultMatch result = ResultMatch::Unknown;

    bool newlyFailing() const;
    bool fixed() const;
};

struct CompareSummary
{
    std::int64_t matched = 0;
    std::int64_t onlyInA = 0;
    std::int64_t onlyInB = 0;
    std::int64_t resultsEqual = 0;
    std::int64_t resultsDifferent = 0;
    std::int64_t cachedInA = 0; ///< tasks served from the result cache in A
    std::int64_t cachedInB = 0;
    double medianRatio = -1;          ///< over the matched tasks with both durations; -1 if none
    std::vector<std::size_t> slowest; ///< indexes into tasks, worst B/A ratio first (> 1 only)
    std::vector<std::size_t> fastest; ///< best B/A ratio first (< 1 only)
    std::vector<std::size_t> newlyFailing;
    std::vector<std::size_t> fixed;
};

struct SessionComparison
{
    SessionSummary a;
    SessionSummary b;
    std::vector<TaskComparison> tasks; ///< in A's order, then B's unmatched tasks
    CompareSummary summary;
};

/// How many tasks the summary names as slowest/fastest.
inline constexpr std::size_t kCompareWorst = 10;

/// Compares session a with session b. Nullopt with *error if either does not exist.
std::optional<SessionComparison>
compareSessions(HistoryStore &store, std::int64_t a, std::int64_t b, std::string *error);

/// The comparison on its own, for records read by other means (tests, the GUI model).
SessionComparison compareTasks(const SessionSummary &a,
                               const std::vector<TaskRecord> &tasksA,
                               const SessionSummary &b,
                               const std::vector<TaskRecord> &tasksB);

/// One row per task (RFC 4180 quoting), with a header line.
std::string compareCsv(const SessionComparison &c);
/// One JSON document: sessions, summary and tasks.
std::string compareJson(const SessionComparison &c);
/// A readable report: summary first, then the tasks that changed (all when `all`).
std::string compareText(const SessionComparison &c, bool all);

} // namespace taskbench::history
