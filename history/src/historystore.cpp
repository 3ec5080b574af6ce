// HistoryStore: opening (WAL, migrations, refusal of newer schemas, corrupt files moved
// aside), queries and maintenance of the run history database.
#include "taskbench/history/historystore.h"
#include "taskbench/history/crashmarker.h"

#include "schema_p.h"
#include "sqlutil_p.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QSysInfo>
#include <QVariant>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>
#include <unordered_map>

#include <unistd.h>

namespace taskbench::history {

namespace {

std::atomic<int> g_connectionCounter{0};

std::vector<QString> statements(const std::string &script)
{
    std::vector<QString> out;
    for (const QString &s : QString::fromStdString(script).split(';', Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            out.push_back(s.trimmed());
    return out;
}

QString likePattern(const std::string &text)
{
    QString escaped = QString::fromStdString(text);
    escaped.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    return '%' + escaped + '%';
}

bool processAlive(qint64 pid)
{
    if (pid <= 0)
        return false;
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

/// SQLite's answers when the file is not (or no longer) a database.
bool looksCorrupt(const QSqlError &e)
{
    const QString text = e.databaseText() + ' ' + e.driverText();
    const QString code = e.nativeErrorCode();
    return code == "26" || code == "11" || text.contains("not a database", Qt::CaseInsensitive)
           || text.contains("malformed", Qt::CaseInsensitive)
           || text.contains("corrupt", Qt::CaseInsensitive);
}

} // namespace

HistoryStore::HistoryStore()
    : m_connection("taskbench-history-" + std::to_string(++g_connectionCounter))
{}

HistoryStore::~HistoryStore()
{
    close();
}

std::string HistoryStore::defaultPath()
{
    const QByteArray env = qgetenv("TASKBENCH_HISTORY_DB");
    if (!env.isEmpty())
        return env.toStdString();
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (base.isEmpty())
        base = QDir::homePath() + "/.local/share";
    return (base + "/taskbench/history.sqlite").toStdString();
}

const std::vector<std::string> &HistoryStore::migrationSteps()
{
    return schema::migrationSteps();
}

bool HistoryStore::isOpen() const
{
    return QSqlDatabase::contains(QString::fromStdString(m_connection)) && database().isOpen();
}

QSqlDatabase HistoryStore::database() const
{
    return QSqlDatabase::database(QString::fromStdString(m_connection), false);
}

void HistoryStore::close()
{
    const QString name = QString::fromStdString(m_connection);
    if (!QSqlDatabase::contains(name))
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(name, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}

bool HistoryStore::exec(const std::string &sql)
{
    QSqlQuery q(database());
    if (!q.exec(QString::fromStdString(sql))) {
        m_error = sql + ": " + q.lastError().text().toStdString();
        return false;
    }
    return true;
}

bool HistoryStore::open(const std::string &path)
{
    close();
    m_path = path;
    m_error.clear();
    m_notices.clear();
    if (path.empty()) {
        m_error = "no history database path";
        return false;
    }
    const QFileInfo info(QString::fromStdString(path));
    if (!QDir().mkpath(info.absolutePath())) {
        m_error = "cannot create the folder " + info.absolutePath().toStdString();
        return false;
    }
    if (info.exists() && !info.isFile()) {
        m_error = path + " is not a file";
        return false;
    }
    return openFile(true);
}

bool HistoryStore::openFile(bool allowMoveAside)
{
    const QString name = QString::fromStdString(m_connection);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", name);
        db.setDatabaseName(QString::fromStdString(m_path));
        db.setConnectOptions("QSQLITE_BUSY_TIMEOUT=10000");
        if (!db.open()) {
            m_error = "cannot open " + m_path + ": " + db.lastError().text().toStdString();
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(name);
            return false;
        }
    }
    QSqlError failure;
    int version = -1;
    {
        QSqlQuery q(database());
        // The first reads fail on a file that is not an SQLite database.
        if (q.exec("PRAGMA user_version") && q.next())
            version = q.value(0).toInt();
        else
            failure = q.lastError();
        if (version >= 0 && !q.exec("SELECT count(*) FROM sqlite_master")) {
            failure = q.lastError();
            version = -1;
        }
    }
    if (version < 0) {
        const bool corrupt = looksCorrupt(failure);
        close();
        if (!corrupt || !allowMoveAside) {
            m_error = "cannot read " + m_path + ": " + failure.text().toStdString();
            return false;
        }
        const QString from = QString::fromStdString(m_path);
        const QString aside
            = from + ".corrupt-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss");
        if (!QFile::rename(from, aside)) {
            m_error = "the history database " + m_path
                      + " is corrupt and cannot be moved aside; choose another file";
            return false;
        }
        QFile::remove(from + "-wal");
        QFile::remove(from + "-shm");
        m_notices.push_back("the history database " + m_path + " was corrupt ("
                            + failure.databaseText().toStdString() + "); it was moved to "
                            + aside.toStdString() + " and a new one was created");
        return openFile(false);
    }
    if (version > kSchemaVersion) {
        m_error = "the history database " + m_path + " was written by a newer Taskbench (schema "
                  + std::to_string(version) + "; this version reads up to "
                  + std::to_string(kSchemaVersion)
                  + "); use a newer Taskbench or another database file (--db PATH)";
        close();
        return false;
    }
    if (!switchToWal()) {
        close();
        return false;
    }
    if (!exec("PRAGMA synchronous=NORMAL") || !migrate()) {
        close();
        return false;
    }
    markInterrupted();
    return true;
}

bool HistoryStore::switchToWal()
{
    // WAL: readers never block the recorder, and a crash loses only uncommitted work. The
    // switch needs the file to itself for a moment, and SQLite answers "locked" at once,
    // without its busy handler, while another process creates or switches the same new file
    // (two CLIs started together): retry for as long as the busy timeout would wait.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto pause = std::chrono::milliseconds(1);
    while (true) {
        QSqlQuery q(database());
        if (q.exec("PRAGMA journal_mode=WAL") && q.next()
            && q.value(0).toString().compare("wal", Qt::CaseInsensitive) == 0)
            return true;
        const QSqlError error = q.lastError();
        const QString code = error.nativeErrorCode();
        const bool busy = code == "5" || code == "6"; // SQLITE_BUSY, SQLITE_LOCKED
        if (!busy || std::chrono::steady_clock::now() >= deadline) {
            m_error = "cannot switch " + m_path
                      + " to write-ahead logging: " + error.text().toStdString();
            return false;
        }
        q.finish();
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

int HistoryStore::schemaVersion() const
{
    QSqlQuery q(database());
    if (q.exec("PRAGMA user_version") && q.next())
        return q.value(0).toInt();
    return -1;
}

bool HistoryStore::migrate()
{
    QSqlDatabase db = database();
    const auto &steps = migrationSteps();
    int migratedFrom = -1; // the version this process first migrated, if it did
    for (int version = schemaVersion(); version < kSchemaVersion; version = schemaVersion()) {
        if (version < 0) {
            m_error = "cannot read the schema version of " + m_path;
            return false;
        }
        // One transaction per step; another process migrating at the same time waits on
        // the write lock and then sees the new version.
        QSqlQuery q(db);
        if (!q.exec("BEGIN IMMEDIATE")) {
            m_error = "cannot lock " + m_path + ": " + q.lastError().text().toStdString();
            return false;
        }
        if (schemaVersion() != version) {
            q.exec("ROLLBACK");
            continue;
        }
        if (migratedFrom < 0)
            migratedFrom = version;
        for (const QString &statement : statements(steps[std::size_t(version)])) {
            if (!q.exec(statement)) {
                m_error = "migrating " + m_path + " to schema " + std::to_string(version + 1)
                          + " failed: " + q.lastError().text().toStdString();
                q.exec("ROLLBACK");
                return false;
            }
        }
        if (!q.exec(QString("PRAGMA user_version=%1").arg(version + 1)) || !q.exec("COMMIT")) {
            m_error = "migrating " + m_path + ": " + q.lastError().text().toStdString();
            q.exec("ROLLBACK");
            return false;
        }
    }
    // A new file is not "migrated", nor one another process was migrating meanwhile.
    if (migratedFrom > 0)
        m_notices.push_back("the history database was migrated from schema "
                            + std::to_string(migratedFrom) + " to "
                            + std::to_string(kSchemaVersion));
    return true;
}

void HistoryStore::markInterrupted()
{
    QSqlQuery q(database());
    if (!q.exec("SELECT id, pid, host, app, processes FROM sessions WHERE status = 'running'"))
        return;
    const QString host = QSysInfo::machineHostName();
    std::vector<qint64> dead;
    while (q.next())
        if (q.value(2).toString() != host || !processAlive(q.value(1).toLongLong())) {
            dead.push_back(q.value(0).toLongLong());
            // A session that vanished without closing was killed or crashed; its process
            // may have named the signal (crashmarker.h). With thread workers a crashing task
            // takes the whole process, which process workers prevent.
            const std::string signal
                = q.value(2).toString() == host
                      ? takeCrashMarker(m_path, host.toStdString(), q.value(1).toLongLong())
                      : std::string();
            const std::string how = signal.empty() ? "ended without closing: a crash (or kill)"
                                                   : "crashed (" + signal + ")";
            const std::string which = "the last " + q.value(3).toString().toStdString()
                                      + " session (#" + std::to_string(dead.back()) + ") ";
            if (!q.value(4).toBool())
                m_notices.push_back(which + how
                                    + " while it ran thread workers, where one crashing task "
                                      "ends the whole process; process workers (the default) "
                                      "restart a crashed worker instead");
            else if (!signal.empty())
                m_notices.push_back(which + how);
        }
    for (qint64 id : dead) {
        QSqlQuery u(database());
        u.prepare("UPDATE sessions SET status = 'interrupted', ended_us = max(started_us, "
                  "(SELECT coalesce(max(max(finished_us, started_us, submitted_us)), 0) FROM "
                  "tasks WHERE session_id = :id)) WHERE id = :id AND status = 'running'");
        u.bindValue(":id", id);
        u.exec();
    }
}

// ---------------------------------------------------------------------------------------
// Reading

namespace {

SessionSummary sessionFromQuery(const QSqlQuery &q)
{
    SessionSummary s;
    s.id = q.value(0).toLongLong();
    s.startedUs = q.value(1).toLongLong();
    s.endedUs = q.value(2).toLongLong();
    s.status = q.value(3).toString().toStdString();
    s.app = q.value(4).toString().toStdString();
    s.title = q.value(5).toString().toStdString();
    s.workers = q.value(6).toInt();
    s.threadsPerWorker = q.value(7).toInt();
    s.processes = q.value(8).toBool();
    // Malformed entries are skipped: the counts are a summary, the task rows stay readable.
    s.counts = sql::parseCounts(q.value(9).toString().toStdString());
    for (const auto &entry : s.counts)
        s.taskCount += entry.second;
    return s;
}

const char *const kSessionColumns
    = "SELECT id, started_us, ended_us, status, app, title, workers, threads_per_worker, "
      "processes, counts FROM sessions";

} // namespace

std::vector<SessionSummary> HistoryStore::sessions(const SessionQuery &query)
{
    std::vector<SessionSummary> out;
    QSqlQuery q(database());
    QString sql = kSessionColumns;
    if (!query.text.empty())
        sql += " WHERE title LIKE :p ESCAPE '\\' OR id IN (SELECT session_id FROM tasks WHERE "
               "function LIKE :p ESCAPE '\\' OR key LIKE :p ESCAPE '\\' OR status = :t OR "
               "error_type LIKE :p ESCAPE '\\' OR error_message LIKE :p ESCAPE '\\')";
    sql += " ORDER BY id DESC";
    if (query.limit >= 0)
        sql += QString(" LIMIT %1").arg(query.limit);
    q.prepare(sql);
    if (!query.text.empty()) {
        q.bindValue(":p", likePattern(query.text));
        q.bindValue(":t", QString::fromStdString(query.text).toLower());
    }
    if (!q.exec())
        return out;
    std::unordered_map<qint64, std::size_t> index;
    while (q.next()) {
        index[q.value(0).toLongLong()] = out.size();
        out.push_back(sessionFromQuery(q));
    }
    if (out.empty())
        return out;
    QSqlQuery p(database());
    if (p.exec("SELECT session_id, name, version FROM plugins ORDER BY name"))
        while (p.next())
            if (auto it = index.find(p.value(0).toLongLong()); it != index.end()) {
                const std::string name = p.value(1).toString().toStdString();
                out[it->second].plugins.push_back(
                    name.empty() ? std::string("(host)")
                                 : name + " " + p.value(2).toString().toStdString());
            }
    return out;
}

std::optional<SessionSummary> HistoryStore::session(std::int64_t id)
{
    QSqlQuery q(database());
    q.prepare(QString(kSessionColumns) + " WHERE id = :id");
    q.bindValue(":id", qint64(id));
    if (!q.exec() || !q.next())
        return std::nullopt;
    SessionSummary s = sessionFromQuery(q);
    for (const PluginUse &p : plugins(id))
        s.plugins.push_back(p.name.empty() ? std::string("(host)") : p.name + " " + p.version);
    return s;
}

std::vector<TaskRecord> HistoryStore::tasks(const TaskQuery &query)
{
    std::vector<TaskRecord> out;
    QStringList where;
    if (query.session > 0)
        where << "session_id = :session";
    if (!query.function.empty())
        where << "function LIKE :function ESCAPE '\\'";
    if (!query.key.empty())
        where << "key LIKE :key ESCAPE '\\'";
    if (!query.status.empty())
        where << "status = :status";
    if (!query.errorText.empty())
        where << "(error_type LIKE :error ESCAPE '\\' OR error_message LIKE :error ESCAPE '\\' OR "
                 "traceback LIKE :error ESCAPE '\\')";
    if (!query.ids.empty()) {
        QStringList ids;
        for (std::uint64_t id : query.ids)
            ids << QString::number(id);
        where << "task_id IN (" + ids.join(',') + ")";
    }
    QString sql = "SELECT session_id, task_id, key, function, grp, deps, args, options, state, "
                  "status, attempts, worker, submitted_us, started_us, finished_us, "
                  "result_stored, result, result_type, result_size, error_type, error_message, "
                  "error_root, traceback, output, story, runs, cached_from FROM tasks";
    if (!where.isEmpty())
        sql += " WHERE " + where.join(" AND ");
    sql += " ORDER BY session_id, task_id";
    if (query.limit >= 0 || query.offset > 0)
        sql += QString(" LIMIT %1 OFFSET %2").arg(query.limit).arg(query.offset);
    QSqlQuery q(database());
    q.setForwardOnly(true);
    q.prepare(sql);
    if (query.session > 0)
        q.bindValue(":session", qint64(query.session));
    if (!query.function.empty())
        q.bindValue(":function", likePattern(query.function));
    if (!query.key.empty())
        q.bindValue(":key", likePattern(query.key));
    if (!query.status.empty())
        q.bindValue(":status", QString::fromStdString(query.status));
    if (!query.errorText.empty())
        q.bindValue(":error", likePattern(query.errorText));
    if (!q.exec())
        return out;
    while (q.next()) {
        TaskRecord t;
        t.session = q.value(0).toLongLong();
        t.id = q.value(1).toULongLong();
        t.key = q.value(2).toString().toStdString();
        t.function = q.value(3).toString().toStdString();
        t.group = q.value(4).toString().toStdString();
        t.deps = sql::parseIds(q.value(5).toString().toStdString());
        t.argsJson = q.value(6).toString().toStdString();
        t.optionsJson = q.value(7).toString().toStdString();
        t.state = q.value(8).toString().toStdString();
        t.status = q.value(9).toString().toStdString();
        t.attempts = q.value(10).toInt();
        t.worker = q.value(11).toInt();
        t.submittedUs = q.value(12).toLongLong();
        t.startedUs = q.value(13).toLongLong();
        t.finishedUs = q.value(14).toLongLong();
        t.resultStored = q.value(15).toBool();
        t.resultJson = q.value(16).toString().toStdString();
        t.resultType = q.value(17).toString().toStdString();
        t.resultSize = q.value(18).toLongLong();
        t.errorType = q.value(19).toString().toStdString();
        t.errorMessage = q.value(20).toString().toStdString();
        t.errorRoot = q.value(21).toString().toStdString();
        t.traceback = q.value(22).toString().toStdString();
        t.output = q.value(23).toString().toStdString();
        t.story = sql::parseStory(q.value(24).toString().toStdString());
        t.runs = sql::parseRuns(q.value(25).toString().toStdString());
        if (!t.runs.empty())
            t.usage = t.runs.back().usage;
        if (!q.value(26).isNull())
            t.cachedFrom = q.value(26).toLongLong();
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<PluginUse> HistoryStore::plugins(std::int64_t session)
{
    std::vector<PluginUse> out;
    QSqlQuery q(database());
    q.prepare("SELECT name, version, path, hash, functions FROM plugins WHERE session_id = :s "
              "ORDER BY name");
    q.bindValue(":s", qint64(session));
    if (!q.exec())
        return out;
    while (q.next()) {
        PluginUse p;
        p.name = q.value(0).toString().toStdString();
        p.version = q.value(1).toString().toStdString();
        p.path = q.value(2).toString().toStdString();
        p.hash = q.value(3).toString().toStdString();
        for (const QString &f : q.value(4).toString().split(' ', Qt::SkipEmptyParts))
            p.functions.push_back(f.toStdString());
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<WorkerRecord> HistoryStore::workers(std::int64_t session)
{
    std::vector<WorkerRecord> out;
    QSqlQuery q(database());
    q.prepare("SELECT worker_id, name, threads, added_us, removed_us, reason FROM workers "
              "WHERE session_id = :s ORDER BY worker_id");
    q.bindValue(":s", qint64(session));
    if (!q.exec())
        return out;
    while (q.next()) {
        WorkerRecord w;
        w.id = q.value(0).toInt();
        w.name = q.value(1).toString().toStdString();
        w.threads = q.value(2).toInt();
        w.addedUs = q.value(3).toLongLong();
        w.removedUs = q.value(4).toLongLong();
        w.removedReason = q.value(5).toString().toStdString();
        out.push_back(std::move(w));
    }
    return out;
}

std::vector<LogRecord> HistoryStore::logs(std::int64_t session, std::optional<std::uint64_t> task)
{
    std::vector<LogRecord> out;
    QSqlQuery q(database());
    q.prepare(QString("SELECT task_id, time_us, text FROM logs WHERE session_id = :s")
              + (task ? " AND task_id = :t" : "") + " ORDER BY rowid");
    q.bindValue(":s", qint64(session));
    if (task)
        q.bindValue(":t", qulonglong(*task));
    if (!q.exec())
        return out;
    while (q.next())
        out.push_back(LogRecord{q.value(0).toULongLong(),
                                q.value(1).toLongLong(),
                                q.value(2).toString().toStdString()});
    return out;
}

// ---------------------------------------------------------------------------------------
// Maintenance

bool HistoryStore::deleteSession(std::int64_t id)
{
    QSqlDatabase db = database();
    if (!db.transaction()) {
        m_error = db.lastError().text().toStdString();
        return false;
    }
    int removed = 0;
    for (const char *table : {"tasks", "plugins", "workers", "logs", "sessions"}) {
        QSqlQuery q(db);
        q.prepare(QString("DELETE FROM %1 WHERE %2 = :id")
                      .arg(table, QString(table) == "sessions" ? "id" : "session_id"));
        q.bindValue(":id", qint64(id));
        if (!q.exec()) {
            m_error = q.lastError().text().toStdString();
            db.rollback();
            return false;
        }
        if (QString(table) == "sessions")
            removed = q.numRowsAffected();
    }
    if (!db.commit()) {
        m_error = db.lastError().text().toStdString();
        return false;
    }
    if (removed == 0)
        m_error = "no session " + std::to_string(id);
    return removed > 0;
}

int HistoryStore::applyRetention(int keepSessions, int keepDays)
{
    std::vector<qint64> doomed;
    QSqlQuery q(database());
    if (!q.exec("SELECT id, started_us, status FROM sessions ORDER BY id DESC"))
        return 0;
    const qint64 cutoff
        = keepDays > 0
              ? (QDateTime::currentMSecsSinceEpoch() - qint64(keepDays) * 86'400'000) * 1000
              : 0;
    int rank = 0;
    while (q.next()) {
        ++rank;
        if (q.value(2).toString() == "running")
            continue;
        const bool tooMany = keepSessions > 0 && rank > keepSessions;
        const bool tooOld = keepDays > 0 && q.value(1).toLongLong() < cutoff;
        if (tooMany || tooOld)
            doomed.push_back(q.value(0).toLongLong());
    }
    int deleted = 0;
    for (qint64 id : doomed)
        deleted += deleteSession(id) ? 1 : 0;
    return deleted;
}

} // namespace taskbench::history
