// The compact text forms of a task's story, attempts and dependencies in the tasks table.
// A 100,000-task session writes one row per task instead of one per transition; these
// columns are only ever read whole, with their task.
//   story: "from to time_us worker attempt;..." (states as TaskState numbers)
//   runs:  "attempt worker thread start_us end_us ok;..."
//   deps:  "id id ..."
// And the task counts of a session (sessions.counts): "status n,status n" (schema 3).
#pragma once

#include "taskbench/history/historytypes.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace taskbench::history::sql {

void appendTransition(std::string &out, const TransitionRecord &t);
void appendRun(std::string &out, const AttemptRecord &r);
std::string formatIds(std::span<const std::uint64_t> ids);
std::string formatCounts(const std::map<std::string, std::int64_t> &counts); ///< zeros left out

/// Malformed entries are skipped (a damaged row must not stop reading the others).
std::vector<TransitionRecord> parseStory(const std::string &text);
std::vector<AttemptRecord> parseRuns(const std::string &text);
std::vector<std::uint64_t> parseIds(const std::string &text);
std::map<std::string, std::int64_t> parseCounts(const std::string &text);

} // namespace taskbench::history::sql
