// The run history database: an SQLite file (Qt SQL's QSQLITE driver) in write-ahead-log
// mode, so a crash of the recording process loses at most the last unflushed batch.
//
// Opening migrates an older schema step by step (PRAGMA user_version), refuses a database
// written by a newer Taskbench with a clear message, and moves a corrupt file aside (the
// notice says where) before creating a fresh one, so the application always starts. Sessions
// still marked "running" whose process is gone read as "interrupted".
//
// Thread safety: a HistoryStore is one database connection and must be used on the thread
// that opened it. Several stores (threads, processes) may open the same file at once.
#pragma once

#include "taskbench/history/historytypes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

class QSqlDatabase;

namespace taskbench::history {

/// The schema this build writes. Version 1 was the first released schema.
inline constexpr int kSchemaVersion = 5;

class HistoryStore
{
public:
    HistoryStore();
    ~HistoryStore();
    HistoryStore(const HistoryStore &) = delete;
    HistoryStore &operator=(const HistoryStore &) = delete;

    /// $TASKBENCH_HISTORY_DB if set, else <user data folder>/taskbench/history.sqlite.
    static std::string defaultPath();

    /// Opens (creating folders and file as needed) and migrates. False with errorString()
    /// for a newer schema or an unusable location. A corrupt file is renamed to
    /// "<path>.corrupt-<time>" and replaced by a fresh database (see notices()).
    bool open(const std::string &path);
    bool isOpen() const;
    void close();
    const std::string &path() const { return m_path; }
    const std::string &errorString() const { return m_error; }
    /// Things the user should know about the last open() (a file moved aside, a migration).
    const std::vector<std::string> &notices() const { return m_notices; }
    int schemaVersion() const;

    // --- reading ---
    std::vector<SessionSummary> sessions(const SessionQuery &query = {});
    std::optional<SessionSummary> session(std::int64_t id);
    std::vector<TaskRecord> tasks(const TaskQuery &query);
    std::vector<PluginUse> plugins(std::int64_t session);
    std::vector<WorkerRecord> workers(std::int64_t session);
    std::vector<LogRecord> logs(std::int64_t session, std::optional<std::uint64_t> task = {});

    // --- maintenance ---
    /// Deletes a session and everything recorded for it. False if there is no such session.
    bool deleteSession(std::int64_t id);
    /// Keeps the newest keepSessions sessions (0: no limit) and those younger than keepDays
    /// days (0: no limit); never deletes a running session. Returns how many were deleted.
    int applyRetention(int keepSessions, int keepDays);

    /// The SQL of each migration step: step 0 creates schema 1, step i takes schema i to
    /// i + 1. Public so that tests can build a database of any older version.
    static const std::vector<std::string> &migrationSteps();

    /// The connection, for the recorder's writes (same thread only).
    QSqlDatabase database() const;

private:
    bool openFile(bool allowMoveAside);
    bool switchToWal();
    bool migrate();
    void markInterrupted();
    bool exec(const std::string &sql);

    std::string m_connection;
    std::string m_path;
    std::string m_error;
    std::vector<std::string> m_notices;
};

} // namespace taskbench::history
