// What the session exports share (defined in exporters.cpp): stored JSON read back, the
// session's summary as a Value, an attempt's usage figures as JSON/CSV, and the error text.
#pragma once

#include "taskbench/history/historystore.h"
#include "taskbench/value.h"

#include <cstdint>
#include <string>

namespace taskbench::history::exportdetail {

/// A stored JSON column back as a Value (null when empty or unreadable).
Value parsed(const std::string &json);
Value sessionValue(const SessionSummary &s);
/// An attempt's usage figure for JSON: null where unknown.
Value known(std::int64_t v);
Value cpuSeconds(const AttemptUsage &u);
/// The same for CSV: empty where unknown.
std::string knownText(std::int64_t v);
std::string cpuText(const AttemptUsage &u);
TaskQuery allTasks(std::int64_t session);
/// "Type: message", "" if the task has no error.
std::string errorText(const TaskRecord &t);

} // namespace taskbench::history::exportdetail
