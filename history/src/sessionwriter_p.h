// Writing one recorded session into the history database: the session row, and at every
// write the dirty task rows, logs, workers, plugins and the session's counts per status in
// one transaction. Every statement goes through SQLite's C API on the store's connection
// (binding UTF-8 directly is several times cheaper per task row than Qt SQL); the
// statements themselves are the schema's (schema_p.h). Used on the recorder thread only.
#pragma once

#include "recorderrows_p.h"
#include "sqlstatement_p.h"

#include "taskbench/clock.h"
#include "taskbench/history/historystore.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

struct sqlite3;

namespace taskbench::history {

class SessionWriter
{
public:
    /// Prepares the statements on the open store's connection and inserts the session row,
    /// "running". False with `error` set when it cannot.
    bool start(HistoryStore &store, const RecorderOptions &options, std::string &error);
    std::int64_t session() const { return m_session; }

    /// Writes the dirty rows (`everything`: also the young pending ones, else left for the
    /// next round) in one transaction and clears what it wrote; a finished row leaves memory
    /// once written (SessionRows::archiveIfDone). The rows written, or nullopt
    /// when nothing was due or the transaction failed (logged; tried again next round).
    std::optional<std::uint64_t> write(SessionRows &rows, bool everything);
    /// The session row ends with `status`: "finished", or "interrupted" for a stopped run.
    void finish(std::string_view status);
    /// Finalizes the statements (before the store closes its connection).
    void close();

private:
    void writeTask(SessionRows &rows, std::uint64_t id, Row &r);
    void exec(const char *sql);

    sqlite3 *m_db = nullptr;
    std::string m_path; ///< for messages
    std::chrono::milliseconds m_pendingWriteDelay{0};
    std::int64_t m_session = 0;
    std::map<std::string, std::int64_t> m_counts; ///< committed task rows per status
    Statement m_upsertTask;
    Statement m_appendStory;
    Statement m_insertLog;
    Statement m_upsertWorker;
    Statement m_upsertPlugin;
    Statement m_updateCounts;
    Statement m_finishSession;
    std::string m_story, m_runs; ///< writeTask's buffers, reused from row to row
};

} // namespace taskbench::history
