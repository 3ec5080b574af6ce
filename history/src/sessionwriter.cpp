// Writing a recorded session (see sessionwriter_p.h).
#include "sessionwriter_p.h"

#include "filehash_p.h"
#include "schema_p.h"
#include "sqlutil_p.h"

#include "taskbench/logging.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSysInfo>
#include <QVariant>

#include <chrono>
#include <stdexcept>
#include <vector>

#include <sqlite3.h>
#include <unistd.h>

namespace taskbench::history {

namespace {

using Clock = std::chrono::steady_clock;

} // namespace

// ---------------------------------------------------------------------------------------
// SessionWriter

bool SessionWriter::start(HistoryStore &store, const RecorderOptions &options, std::string &error)
{
    m_path = options.databasePath;
    m_pendingWriteDelay = options.pendingWriteDelay;
    const QVariant h = store.database().driver()->handle();
    if (!h.isValid() || qstrcmp(h.typeName(), "sqlite3*") != 0
        || !(m_db = *static_cast<sqlite3 *const *>(h.constData()))) {
        error = "the Qt SQLite driver gave no database handle";
        return false;
    }
    Statement insertSession;
    const std::pair<Statement *, const char *> statements[] = {
        {&insertSession, schema::kInsertSession},
        {&m_upsertTask, schema::kUpsertTask},
        {&m_appendStory, schema::kAppendStory},
        {&m_insertLog, schema::kInsertLog},
        {&m_upsertWorker, schema::kUpsertWorker},
        {&m_upsertPlugin, schema::kUpsertPlugin},
        {&m_updateCounts, schema::kUpdateCounts},
        {&m_finishSession, schema::kFinishSession},
    };
    for (const auto &[statement, sql] : statements)
        if (!statement->prepare(m_db, sql)) {
            error = std::string("cannot prepare the session writer: ") + sqlite3_errmsg(m_db);
            return false;
        }
    const SessionStart &s = options.session;
    const std::string host = QSysInfo::machineHostName().toStdString();
    insertSession.number(1, wallClockUs());
    insertSession.text(2, s.app);
    insertSession.text(3, s.title);
    insertSession.number(4, s.workers);
    insertSession.number(5, s.threadsPerWorker);
    insertSession.number(6, s.processes ? 1 : 0);
    insertSession.number(7, ::getpid());
    insertSession.text(8, host);
    try {
        insertSession.run();
    } catch (const std::exception &e) {
        error = "cannot start a session in " + m_path + ": " + e.what();
        return false;
    }
    m_session = sqlite3_last_insert_rowid(m_db);
    // A bigger page cache than SQLite's 2 MB default keeps the primary key and index pages
    // of a large session in memory while it is written.
    sqlite3_exec(m_db, "PRAGMA cache_size=-32768", nullptr, nullptr, nullptr);
    return true;
}

void SessionWriter::exec(const char *sql)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) == SQLITE_OK)
        return;
    const std::string text = message ? message : sqlite3_errmsg(m_db);
    sqlite3_free(message);
    throw std::runtime_error(text);
}

void SessionWriter::writeTask(SessionRows &rows, std::uint64_t id, Row &r)
{
    using namespace schema;
    rows.identify(r);
    Statement &q = m_upsertTask;
    static const EventDetail noInfo;
    static const Failure noFailure;
    static const std::string none; // default options, no group
    const EventDetail &info = r.info ? *r.info : noInfo;
    const Failure &f = r.failure ? *r.failure : noFailure;
    // Formatted here, once per write; every string outlives the run() below.
    const std::string deps = sql::formatIds(r.deps());
    m_story.clear();
    r.story.forEach([this](const Step &t) { sql::appendTransition(m_story, t.record()); });
    m_runs.clear();
    r.runs.forEach([this](const AttemptRecord &a) { sql::appendRun(m_runs, a); });
    q.number(SessionId, m_session);
    q.number(TaskId, std::int64_t(id));
    q.text(Key, r.key());
    q.text(Function, info.function);
    q.text(Group, info.group ? *info.group : none);
    q.text(Deps, deps);
    q.text(Args, r.argsJson);
    q.text(Options, r.optionsJson ? *r.optionsJson : none);
    q.text(State, toString(r.state));
    q.text(Status, toString(r.status()));
    q.number(Attempts, r.attempts);
    q.number(Worker, r.worker);
    q.number(SubmittedUs, r.submittedUs);
    q.number(StartedUs, r.startedUs);
    q.number(FinishedUs, r.finishedUs);
    q.number(ResultStored, r.resultStored ? 1 : 0);
    q.text(Result, r.resultJson);
    q.text(ResultType, r.resultType ? *r.resultType : none);
    q.number(ResultSize, r.resultSize);
    q.text(ErrorType, f.type);
    q.text(ErrorMessage, f.message);
    q.text(ErrorRoot, f.root);
    q.text(Traceback, f.traceback);
    q.text(Output, f.output);
    q.text(Story, m_story);
    q.text(Runs, m_runs);
    AttemptUsage last;
    r.runs.forEach([&last](const AttemptRecord &a) { last = a.usage; });
    if (last.peakRssBytes >= 0)
        q.number(PeakRssBytes, last.peakRssBytes);
    else
        q.null(PeakRssBytes);
    if (last.cpuUs >= 0)
        q.real(CpuSeconds, double(last.cpuUs) / 1e6);
    else
        q.null(CpuSeconds);
    if (last.resultBytes >= 0)
        q.number(ResultBytes, last.resultBytes);
    else
        q.null(ResultBytes);
    if (r.cachedFrom >= 0)
        q.number(CachedFrom, r.cachedFrom);
    else
        q.null(CachedFrom);
    q.run();
}

std::optional<std::uint64_t> SessionWriter::write(SessionRows &rows, bool everything)
{
    if (!rows.changed())
        return std::nullopt;
    // A task that is neither done nor old (submitted within pendingWriteDelay; one submitted
    // before the recording started counts as old) is left for the next round: most tasks of
    // a big map are then written once, finished.
    const std::int64_t youngestUs
        = wallClockUs()
          - std::chrono::duration_cast<std::chrono::microseconds>(m_pendingWriteDelay).count();
    std::vector<std::uint64_t> later;
    std::vector<std::pair<std::uint64_t, Row *>> done;
    std::map<std::string, std::int64_t> nextCounts = m_counts;
    try {
        exec("BEGIN");
        for (std::uint64_t id : rows.dirty) {
            Row *found = rows.rows.find(id);
            if (!found)
                continue;
            Row &r = *found;
            if (!everything && !r.terminal() && r.submittedUs > youngestUs && !r.committed) {
                later.push_back(id);
                continue;
            }
            writeTask(rows, id, r);
            done.emplace_back(id, &r);
        }
        std::string step;
        for (const auto &[id, s] : rows.storyAppends) {
            step.clear();
            sql::appendTransition(step, s.record());
            m_appendStory.text(1, step);
            m_appendStory.number(2, m_session);
            m_appendStory.number(3, std::int64_t(id));
            m_appendStory.run();
        }
        for (const LogRecord &l : rows.logs) {
            m_insertLog.number(1, m_session);
            m_insertLog.number(2, std::int64_t(l.task));
            m_insertLog.number(3, l.timeUs);
            m_insertLog.text(4, l.text);
            m_insertLog.run();
        }
        for (int id : rows.dirtyWorkers) {
            const WorkerRecord &w = rows.workers[id];
            m_upsertWorker.number(1, m_session);
            m_upsertWorker.number(2, w.id);
            m_upsertWorker.text(3, w.name);
            m_upsertWorker.number(4, w.threads);
            m_upsertWorker.number(5, w.addedUs);
            m_upsertWorker.number(6, w.removedUs);
            m_upsertWorker.text(7, w.removedReason);
            m_upsertWorker.run();
        }
        for (const auto &id : rows.dirtyPlugins) {
            PluginUse &p = rows.plugins[id];
            if (p.hash.empty()) // here, not when first seen: hashing reads the whole file
                p.hash = fileSha256(p.path);
            std::string functions;
            for (const std::string &f : p.functions)
                functions += (functions.empty() ? "" : " ") + f;
            m_upsertPlugin.number(1, m_session);
            m_upsertPlugin.text(2, p.name);
            m_upsertPlugin.text(3, p.version);
            m_upsertPlugin.text(4, p.path);
            m_upsertPlugin.text(5, p.hash);
            m_upsertPlugin.text(6, functions);
            m_upsertPlugin.run();
        }
        // The session's counts per status, in the same transaction as its task rows.
        for (const auto &[id, r] : done) {
            if (r->committed)
                --nextCounts[toString(r->committedStatus)];
            ++nextCounts[toString(r->status())];
        }
        if (nextCounts != m_counts) {
            const std::string counts = sql::formatCounts(nextCounts);
            m_updateCounts.text(1, counts);
            m_updateCounts.number(2, m_session);
            m_updateCounts.run();
        }
        exec("COMMIT");
    } catch (const std::exception &e) {
        // A failed batch (disk full, locked too long) is kept and tried again next round.
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        log::get("history")->warn("cannot write to {}: {}", m_path, e.what());
        return std::nullopt;
    }
    m_counts = std::move(nextCounts);
    const std::uint64_t written = done.size() + rows.logs.size() + rows.storyAppends.size();
    for (const auto &[id, r] : done) {
        r->dirty = false;
        r->committed = true;
        r->committedStatus = r->status();
        rows.archiveIfDone(id, *r);
    }
    rows.dirty.swap(later);
    rows.storyAppends.clear();
    rows.logs.clear();
    rows.dirtyWorkers.clear();
    rows.dirtyPlugins.clear();
    return written;
}

void SessionWriter::finish(std::string_view status)
{
    m_finishSession.text(1, status);
    m_finishSession.number(2, wallClockUs());
    m_finishSession.number(3, m_session);
    try {
        m_finishSession.run();
    } catch (const std::exception &e) {
        log::get("history")->warn("cannot close session {}: {}", m_session, e.what());
    }
}

void SessionWriter::close()
{
    for (Statement *s : {&m_upsertTask,
                         &m_appendStory,
                         &m_insertLog,
                         &m_upsertWorker,
                         &m_upsertPlugin,
                         &m_updateCounts,
                         &m_finishSession})
        s->finalize();
}

} // namespace taskbench::history
