// The run history's database schema, defined once for the store and the recorder: the
// migration steps that create and upgrade the tables (HistoryStore::open applies them in
// order, one transaction each, and records the version in PRAGMA user_version), and the
// statements that write the tables while a session is recorded (SessionWriter prepares them
// on its connection). A released step is never edited: a change is a new step and
// kSchemaVersion + 1.
#pragma once

#include <string>
#include <vector>

namespace taskbench::history::schema {

/// Step i takes a database from schema version i to i + 1 (step 0 creates it).
const std::vector<std::string> &migrationSteps();

/// A new session row, "running": started_us, app, title, workers, threads_per_worker,
/// processes, pid, host.
extern const char *const kInsertSession;
/// A session's end: status ("finished", "interrupted"), ended_us, id.
extern const char *const kFinishSession;
/// A session's task counts (sql::formatCounts): counts, id.
extern const char *const kUpdateCounts;
/// One task row, inserted or replaced; parameters numbered by TaskParam.
extern const char *const kUpsertTask;
/// One more step at the end of a stored task's story: step (sql::appendTransition),
/// session_id, task_id.
extern const char *const kAppendStory;
/// One log line: session_id, task_id, time_us, text.
extern const char *const kInsertLog;
/// One worker, inserted or replaced: session_id, worker_id, name, threads, added_us,
/// removed_us, reason.
extern const char *const kUpsertWorker;
/// One plugin a session used, inserted or replaced: session_id, name, version, path, hash,
/// functions.
extern const char *const kUpsertPlugin;

/// The parameters of kUpsertTask (SQLite numbers them from 1), in the order of its columns.
enum TaskParam : int {
    SessionId = 1,
    TaskId,
    Key,
    Function,
    Group,
    Deps,
    Args,
    Options,
    State,
    Status,
    Attempts,
    Worker,
    SubmittedUs,
    StartedUs,
    FinishedUs,
    ResultStored,
    Result,
    ResultType,
    ResultSize,
    ErrorType,
    ErrorMessage,
    ErrorRoot,
    Traceback,
    Output,
    Story,
    Runs,
    PeakRssBytes,
    CpuSeconds,
    ResultBytes,
    CachedFrom,
    TaskParamCount = CachedFrom,
};

/// The result cache's table and its index (several statements: sqlite3_exec them).
extern const char *const kCreateResultCache;
/// One cached value, inserted or replaced: key, function, plugin_sha256, value, checksum,
/// size, last_used, session_id.
extern const char *const kStoreCached;
/// A cached value's last use: last_used, key, function, plugin_sha256.
extern const char *const kTouchCached;
/// One cached value gone: key, function, plugin_sha256.
extern const char *const kRemoveCached;
/// One cached value read: key, function, plugin_sha256 -> value, checksum, session_id.
extern const char *const kReadCached;

} // namespace taskbench::history::schema
