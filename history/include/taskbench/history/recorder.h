// Records a Client's work into the history database: a subscriber to the engine's event
// stream that only copies each batch into a queue (the scheduler thread must not wait),
// and a thread of its own that turns events into task rows and writes them in batched
// transactions on its own database connection.
//
// Events carry states, times and workers; arguments, results and errors are read from the
// futures the caller hands over with track() (held only until the task first reaches a
// terminal state, so recording never keeps a task alive once it is done; one that finishes
// again after a retry is looked up by its key for the new result). A task row is written
// once it reaches a terminal state, or once it has been pending for pendingWriteDelay (so a
// crash keeps what was queued or running), and again when it changes. Writes happen every
// flushInterval, or while the engine is busy every busyWriteInterval, so that SQL does not
// compete with the run. Rows are written through SQLite's C API on the Qt connection's
// handle: binding UTF-8 directly is several times cheaper per row.
//
// The session row starts as "running" and becomes "finished" in finish(), or "interrupted"
// when RecorderOptions::interrupted says the run was stopped (Ctrl-C); a process that dies
// before leaves it to be read as "interrupted" too. Destroy (or finish()) the recorder
// before the Client.
#pragma once

#include "taskbench/client.h"
#include "taskbench/history/historytypes.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace taskbench::history {

struct RecorderOptions
{
    std::string databasePath; ///< empty: HistoryStore::defaultPath()
    SessionStart session;
    /// Results whose JSON is larger are stored as type and size only.
    std::size_t resultLimitBytes = 64 * 1024;
    std::chrono::milliseconds flushInterval{200};
    /// While the engine is busy (events keep waking the recorder before flushInterval is
    /// up), rows are written at most this often: the SQL work waits for a quiet moment
    /// instead of taking CPU from the run. A crash during a busy run loses at most this much.
    std::chrono::milliseconds busyWriteInterval{1000};
    /// A task still pending or running is written once it is this old (finished tasks at
    /// the next flush): a big map of quick tasks is written once per task, while after a
    /// crash everything older than this is there.
    std::chrono::milliseconds pendingWriteDelay{1000};
    /// Asked once by finish(), on its caller's thread: true ends the session as
    /// "interrupted" instead of "finished" (taskbench-cli: Ctrl-C or SIGTERM stopped the
    /// run). Unset: "finished".
    std::function<bool()> interrupted;
};

struct RecorderStats
{
    std::uint64_t events = 0;
    std::uint64_t rowsWritten = 0;
    std::uint64_t transactions = 0;
    double writeMs = 0; ///< time spent in database writes
    /// The backlog: events handed over and not folded into rows yet, and the task rows held
    /// in memory (not archived: unfinished, unwritten, or kept for a retry).
    std::uint64_t queuedEvents = 0;
    std::uint64_t rowsInMemory = 0;
};

/// The kinds of events a Recorder asks the engine for.
EventMask recordedEvents();

class Recorder
{
public:
    /// Opens the database on the recorder's thread, starts the session and subscribes.
    /// Check ok(): on failure nothing is recorded and errorString() says why.
    Recorder(Client &client, RecorderOptions options);
    ~Recorder(); ///< finish()
    Recorder(const Recorder &) = delete;
    Recorder &operator=(const Recorder &) = delete;

    bool ok() const;
    std::string errorString() const;
    std::vector<std::string> notices() const; ///< from opening the database
    std::int64_t sessionId() const;

    /// Records these futures' arguments, options, results and errors. Cheap: the work is
    /// done on the recorder's thread.
    void track(const std::vector<Future> &futures, const SubmitOptions &options = {});
    /// Blocks until everything received so far is written (tests, before a query).
    void flush();
    /// Writes what is left, marks the session finished (or interrupted, see
    /// RecorderOptions::interrupted) and stops. Idempotent.
    void finish();
    RecorderStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace taskbench::history
