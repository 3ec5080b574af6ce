// Exports of one recorded session: a Chrome trace / Perfetto JSON (one track per worker
// thread, one slice per attempt, errors annotated, dependency arrows, a peak-memory counter
// track per worker thread), a CSV of its tasks (RFC 4180 quoting)
// and a JSON document of the whole session (session, plugins, workers, tasks with stories,
// attempts, logs, results and errors).
#pragma once

#include "taskbench/history/historystore.h"

#include <cstdint>
#include <optional>
#include <string>

namespace taskbench::history {

enum class ExportFormat { Perfetto, Csv, Json };

/// "perfetto" (also "chrome"), "csv", "json"; nullopt for anything else.
std::optional<ExportFormat> exportFormatFromName(const std::string &name);

std::string exportPerfetto(HistoryStore &store, std::int64_t session);
std::string exportCsv(HistoryStore &store, std::int64_t session);
std::string exportJson(HistoryStore &store, std::int64_t session);

/// Writes the session in `format` to `path`. False with *error (no such session, cannot
/// write the file).
bool exportSession(HistoryStore &store,
                   std::int64_t session,
                   ExportFormat format,
                   const std::string &path,
                   std::string *error);

} // namespace taskbench::history
