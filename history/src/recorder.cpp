// Recorder: engine events -> task rows, written in batched transactions on a thread of its
// own (see recorder.h). The engine-side callback only appends the batch to a shared queue;
// everything else (building rows, reading results, hashing plugin files, SQL) happens here.
#include "taskbench/history/recorder.h"

#include "sqlutil_p.h"
#include "taskbench/history/historystore.h"
#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QVariant>

#include <algorithm>
#include <array>
#include <bitset>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <span>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>

#include <pthread.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

namespace taskbench::history {

namespace {

using Clock = std::chrono::steady_clock;

/// Nice value of the recorder thread (0 = the engine's): a weight of about a tenth of a
/// normal thread's when both want the CPU, all of it when the engine is idle.
constexpr int kRecorderNice = 10;

/// What a session records. Tasks come as TasksAdded (one event per submit, not a TaskAdded
/// detail per task); not ExecutionStarted (the transition to processing says the same),
/// progress (transient) or transitions to forgotten (a row keeps its last real state): the
/// engine then makes three events and an allocation fewer per task while only the recorder
/// listens.
constexpr EventMask kRecordedEvents
    = eventBit(EventKind::TasksAdded) | eventBit(EventKind::Transition)
      | eventBit(EventKind::ExecutionFinished) | eventBit(EventKind::Log)
      | eventBit(EventKind::WorkerAdded) | eventBit(EventKind::WorkerRemoved);

/// Queued events that wake the recorder before its interval is up.
constexpr std::size_t kDrainEvents = 4 * 1024;

struct TrackItem
{
    std::vector<Future> futures;
    SubmitOptions options;
};

/// Engine batches are queued as the engine hands them over (shared, not copied): the
/// engine's thread does nothing more per event for recording.
using QueueItem = std::variant<EventBatchPtr, TrackItem>;

/// What the engine's callback and the callers share with the recorder thread. Held by
/// shared_ptr: a callback may still run on a snapshot of the subscriber list after
/// unsubscribing.
struct Shared
{
    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable written;
    std::vector<QueueItem> queue;
    std::size_t queuedEvents = 0;
    std::uint64_t flushRequested = 0;
    std::uint64_t flushDone = 0;
    bool stopping = false;
    bool closed = false; ///< the thread has stopped: nothing more is taken

    void push(QueueItem item, std::size_t events)
    {
        std::lock_guard lock(mutex);
        if (closed || stopping)
            return;
        queue.push_back(std::move(item));
        queuedEvents += events;
        // Drained early rather than held: the engine's batches go back to its pool only once
        // the recorder has read them, and a scheduler that has to take fresh memory for every
        // batch instead runs measurably slower.
        if (queuedEvents > kDrainEvents)
            wake.notify_one();
    }
};

/// A list that keeps its first N items in place: a task of a big map has four transitions
/// and one attempt, and a heap block for each would be most of what recording allocates.
/// The rare rest goes to a vector made on first use (one pointer while there is none).
template <typename T, std::size_t N>
class InlineList
{
public:
    void push_back(const T &item)
    {
        if (m_size < N) {
            m_first[m_size] = item;
        } else {
            if (!m_more)
                m_more = std::make_unique<std::vector<T>>();
            m_more->push_back(item);
        }
        ++m_size;
    }
    bool empty() const { return m_size == 0; }
    template <typename F>
    void forEach(F &&f) const
    {
        for (std::size_t i = 0; i < std::min<std::size_t>(m_size, N); ++i)
            f(m_first[i]);
        if (m_more)
            for (const T &item : *m_more)
                f(item);
    }

private:
    std::array<T, N> m_first{};
    std::uint32_t m_size = 0;
    std::unique_ptr<std::vector<T>> m_more;
};

/// A TransitionRecord in 16 bytes instead of 24: a row keeps four of them inline.
struct Step
{
    std::int64_t timeUs = 0;
    std::int32_t worker = -1;
    std::uint16_t attempt = 0; ///< saturates at 65535 (a task retried that often is stuck)
    TaskState from = TaskState::Released;
    TaskState to = TaskState::Released;

    static Step of(const Event &e)
    {
        return Step{
            e.timeUs, e.worker, std::uint16_t(std::clamp(e.attempt, 0, 0xffff)), e.from, e.to};
    }
    TransitionRecord record() const { return TransitionRecord{from, to, timeUs, worker, attempt}; }
};
static_assert(sizeof(Step) == 16);

/// What only a failed task has.
struct Failure
{
    std::string type;
    std::string message;
    std::string root;
    std::string traceback;
    std::string output;
};

/// One task as the recorder knows it until its row is final. Kept small (a map of 100,000
/// tasks has as many): the key, function, group and deps are the engine's TasksAdded list
/// and the options are one string per track() call, all shared and not copied; what only a
/// failed task has is allocated for failed tasks.
struct Row
{
    /// Key, function, group, deps: the TasksAdded detail of its submit (the task is
    /// info->tasks's entry `index`), or one made from its future (identify()).
    std::shared_ptr<const EventDetail> info;
    std::shared_ptr<const std::string> optionsJson; ///< null: defaults (or not tracked)
    std::string argsJson;                           ///< "" if not tracked
    std::string resultJson;
    const std::string *resultType = nullptr; ///< interned (Impl::typeNames): few per session
    std::int64_t resultSize = -1;
    std::unique_ptr<Failure> failure;
    InlineList<Step, 4> story;
    InlineList<AttemptRecord, 1> runs;
    Future future;
    std::int64_t submittedUs = 0;
    std::int64_t startedUs = 0;
    std::int64_t finishedUs = 0;
    int attempts = 0;
    int worker = -1;
    TaskState state = TaskState::Released;
    FutureStatus committedStatus = FutureStatus::Pending; ///< its status in the database
    bool committed = false;                               ///< it has a row in the database
    bool resultStored = false;
    bool tracked = false; ///< handed over with track(): its outcome is recorded
    bool dirty = false;

    std::uint32_t index = 0;

    std::string_view key() const
    {
        if (!info)
            return {};
        return info->tasks ? info->tasks->key(index) : std::string_view(info->key);
    }
    std::span<const std::uint64_t> deps() const
    {
        if (!info)
            return {};
        return info->tasks ? info->tasks->deps(index) : std::span<const std::uint64_t>(info->deps);
    }
    FutureStatus status() const { return futureStatusOf(state); }
    bool terminal() const { return isTerminal(status()); }
};

/// The rows by task id. The engine numbers a client's tasks 1, 2, 3...: rows are kept in
/// blocks indexed by id, without a heap node and a hash bucket per task. An id far beyond
/// the blocks (none the engine makes today) goes to a map instead.
class RowTable
{
    static constexpr std::uint64_t kBlock = 4096;
    static constexpr std::uint64_t kMaxBlocks = 1 << 16; ///< 268M task ids

    /// Storage for kBlock rows, each constructed when its task is first seen: the block is
    /// written once, row by row as tasks come, rather than all at once and again in use
    /// (and a block's unused tail is never touched).
    class Block
    {
    public:
        ~Block()
        {
            for (std::size_t i = 0; i < kBlock; ++i)
                if (m_used[i])
                    slot(i)->~Row();
        }
        Row *find(std::size_t i) { return m_used[i] ? slot(i) : nullptr; }
        Row &at(std::size_t i, bool &inserted)
        {
            inserted = !m_used[i];
            if (inserted) {
                new (slot(i)) Row();
                m_used[i] = true;
            }
            return *slot(i);
        }

    private:
        struct alignas(Row) Storage
        {
            std::byte bytes[sizeof(Row)];
        };
        Row *slot(std::size_t i) { return std::launder(reinterpret_cast<Row *>(&m_storage[i])); }
        std::unique_ptr<Storage[]> m_storage = std::make_unique_for_overwrite<Storage[]>(kBlock);
        std::bitset<kBlock> m_used;
    };

public:
    /// The row of `id`, made if new (`inserted` says so).
    Row &at(std::uint64_t id, bool &inserted)
    {
        if (id / kBlock < kMaxBlocks) {
            const std::size_t b = id / kBlock;
            if (b >= m_blocks.size())
                m_blocks.resize(b + 1);
            if (!m_blocks[b])
                m_blocks[b] = std::make_unique<Block>();
            return m_blocks[b]->at(id % kBlock, inserted);
        }
        auto [it, added] = m_far.try_emplace(id);
        inserted = added;
        return it->second;
    }
    Row *find(std::uint64_t id)
    {
        if (id / kBlock < kMaxBlocks) {
            const std::size_t b = id / kBlock;
            if (b >= m_blocks.size() || !m_blocks[b])
                return nullptr;
            return m_blocks[b]->find(id % kBlock);
        }
        auto it = m_far.find(id);
        return it == m_far.end() ? nullptr : &it->second;
    }
    void clear()
    {
        m_blocks.clear();
        m_far.clear();
    }

private:
    std::vector<std::unique_ptr<Block>> m_blocks;
    std::unordered_map<std::uint64_t, Row> m_far;
};

std::string sha256Of(const std::string &path)
{
    QFile file(QString::fromStdString(path));
    if (path.empty() || !file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return {};
    return hash.result().toHex().toStdString();
}

QVariant text(const std::string &s)
{
    return QVariant(QString::fromStdString(s));
}

std::int64_t nowUs()
{
    return QDateTime::currentMSecsSinceEpoch() * 1000;
}

} // namespace

struct Recorder::Impl
{
    Client &client;
    std::shared_ptr<FunctionRegistry> registry;
    RecorderOptions options;
    std::shared_ptr<Shared> shared = std::make_shared<Shared>();
    Subscription subscription;
    std::thread thread;

    // Set once by the thread before the constructor returns.
    bool ok = false;
    std::string error;
    std::vector<std::string> notices;
    std::int64_t session = 0;

    mutable std::mutex statsMutex;
    RecorderStats stats;

    // --- recorder thread only ---
    std::unique_ptr<HistoryStore> store;
    RowTable rows;
    std::vector<std::uint64_t> dirty;
    std::vector<std::uint64_t> unseen; ///< tracked before any of their events came
    std::vector<LogRecord> logs;
    std::map<int, WorkerRecord> workers;
    std::set<int> dirtyWorkers;
    std::set<std::string> seenFunctions;
    std::set<std::string> typeNames; ///< the result types rows point to
    std::map<std::pair<std::string, std::string>, PluginUse> plugins; ///< (name, path)
    std::set<std::pair<std::string, std::string>> dirtyPlugins;
    std::map<std::string, std::int64_t> counts; ///< committed task rows per status
    sqlite3 *handle = nullptr;
    sqlite3_stmt *upsertTask = nullptr; ///< finalized before the connection closes
    std::string story, runs;            ///< writeTask's buffers, reused from row to row

    Impl(Client &c, RecorderOptions o)
        : client(c)
        , registry(c.functionRegistry())
        , options(std::move(o))
    {}

    void run(std::promise<void> &started);
    bool startSession();
    void apply(const EventBatch &batch);
    void apply(TrackItem &item);
    Row &row(std::uint64_t id);
    void markDirty(std::uint64_t id, Row &r);
    void identify(Row &r); ///< key and function from its future if no TasksAdded came
    void takeStateFromFuture(Row &r);
    void capture(Row &r);
    void notePlugin(const std::string &function);
    void write(bool everything);
    void writeTask(std::uint64_t id, Row &r);
    void finishSession();
};

EventMask recordedEvents()
{
    return kRecordedEvents;
}

Recorder::Recorder(Client &client, RecorderOptions options)
    : d(std::make_unique<Impl>(client, std::move(options)))
{
    if (d->options.databasePath.empty())
        d->options.databasePath = HistoryStore::defaultPath();
    std::promise<void> started;
    std::future<void> opened = started.get_future();
    d->thread = std::thread([this, &started] { d->run(started); });
    opened.wait();
    if (!d->ok) {
        d->thread.join();
        return;
    }
    // Workers that joined before the subscription.
    for (const WorkerInfo &w : client.workers()) {
        Event e;
        e.kind = EventKind::WorkerAdded;
        e.worker = w.id;
        e.detail().text = w.name;
        e.value = w.threads;
        e.timeUs = nowUs();
        d->shared->push(std::make_shared<const EventBatch>(EventBatch{e}), 1);
    }
    std::shared_ptr<Shared> shared = d->shared;
    d->subscription = client.subscribeShared(
        [shared](const EventBatchPtr &batch) { shared->push(batch, batch->size()); },
        kRecordedEvents);
}

Recorder::~Recorder()
{
    finish();
}

bool Recorder::ok() const
{
    return d->ok;
}

std::string Recorder::errorString() const
{
    return d->error;
}

std::vector<std::string> Recorder::notices() const
{
    return d->notices;
}

std::int64_t Recorder::sessionId() const
{
    return d->session;
}

void Recorder::track(const std::vector<Future> &futures, const SubmitOptions &options)
{
    if (!d->ok || futures.empty())
        return;
    d->shared->push(TrackItem{futures, options}, futures.size());
}

void Recorder::flush()
{
    if (!d->ok || !d->thread.joinable())
        return;
    d->client.deliverEvents(); // what the caller may already have seen happen
    std::unique_lock lock(d->shared->mutex);
    if (d->shared->closed)
        return;
    const std::uint64_t ticket = ++d->shared->flushRequested;
    d->shared->wake.notify_one();
    d->shared->written.wait(lock,
                            [&] { return d->shared->flushDone >= ticket || d->shared->closed; });
}

void Recorder::finish()
{
    // Events of tasks the caller already saw finish may still be on the scheduler's side.
    if (d->thread.joinable() && d->ok)
        d->client.deliverEvents();
    d->subscription.reset();
    if (!d->thread.joinable())
        return;
    {
        std::lock_guard lock(d->shared->mutex);
        d->shared->stopping = true;
    }
    d->shared->wake.notify_one();
    d->thread.join();
}

RecorderStats Recorder::stats() const
{
    std::lock_guard lock(d->statsMutex);
    return d->stats;
}

// ---------------------------------------------------------------------------------------
// The recorder thread

void Recorder::Impl::run(std::promise<void> &started)
{
    // Recording is background work: at a lower priority (Linux nice applies per thread) it
    // takes the CPU the engine's threads leave idle instead of slowing the run. Its backlog
    // is written when the run quiets down, or at flush()/finish(). Best effort: a failure
    // only means the recorder competes at normal priority.
    ::pthread_setname_np(::pthread_self(), "tb-recorder"); // in top, perf and gdb
    ::setpriority(PRIO_PROCESS, id_t(::gettid()), kRecorderNice);
    store = std::make_unique<HistoryStore>();
    if (!store->open(options.databasePath)) {
        error = store->errorString();
        store.reset();
        started.set_value();
        return;
    }
    notices = store->notices();
    if (!startSession()) {
        sqlite3_finalize(upsertTask);
        upsertTask = nullptr;
        store.reset();
        started.set_value();
        return;
    }
    ok = true;
    started.set_value(); // `started` is gone after this line

    std::vector<QueueItem> items;
    auto lastWrite = Clock::now();
    for (;;) {
        bool stop = false;
        bool flushing = false;
        std::uint64_t flushTicket = 0;
        {
            std::unique_lock lock(shared->mutex);
            shared->wake.wait_for(lock, options.flushInterval, [&] {
                return shared->stopping || shared->flushRequested > shared->flushDone
                       || shared->queuedEvents > kDrainEvents;
            });
            items.swap(shared->queue);
            shared->queuedEvents = 0;
            stop = shared->stopping;
            flushTicket = shared->flushRequested;
            flushing = flushTicket > shared->flushDone;
        }
        std::uint64_t events = 0;
        for (QueueItem &item : items) {
            if (auto *batch = std::get_if<EventBatchPtr>(&item)) {
                apply(**batch);
                events += (*batch)->size();
                batch->reset(); // back to the engine's pool now, not after the whole backlog
            } else {
                apply(std::get<TrackItem>(item));
            }
        }
        items.clear();
        {
            std::lock_guard lock(statsMutex);
            stats.events += events;
        }
        // Events are read as they come (above), so that the engine's batches go back to its
        // pool. The database is written once per interval, so a busy run pays for few
        // transactions and most tasks are written once, finished; and while events keep
        // coming faster than one drain per wake-up, only once per busyWriteInterval: SQL and
        // file writes would take CPU the run is using.
        const bool busy = events > kDrainEvents;
        const auto sinceWrite = Clock::now() - lastWrite;
        if (stop || flushing || (!busy && sinceWrite >= options.flushInterval)
            || sinceWrite >= options.busyWriteInterval) {
            write(stop || flushing);
            lastWrite = Clock::now();
        }
        if (stop) {
            std::lock_guard lock(shared->mutex);
            if (shared->queue.empty()) {
                // Anything pushed after this is dropped (push() checks `closed`).
                shared->closed = true;
                break;
            }
            continue;
        }
        std::lock_guard lock(shared->mutex);
        shared->flushDone = std::max(shared->flushDone, flushTicket);
        shared->written.notify_all();
    }
    finishSession();
    rows.clear(); // releases tracked futures on this thread
    sqlite3_finalize(upsertTask);
    upsertTask = nullptr;
    store.reset();
    std::lock_guard lock(shared->mutex);
    shared->flushDone = shared->flushRequested;
    shared->written.notify_all();
}

bool Recorder::Impl::startSession()
{
    QSqlQuery q(store->database());
    q.prepare("INSERT INTO sessions(started_us, status, app, title, workers, threads_per_worker, "
              "processes, pid, host) VALUES(?, 'running', ?, ?, ?, ?, ?, ?, ?)");
    q.addBindValue(qint64(nowUs()));
    q.addBindValue(text(options.session.app));
    q.addBindValue(text(options.session.title));
    q.addBindValue(options.session.workers);
    q.addBindValue(options.session.threadsPerWorker);
    q.addBindValue(options.session.processes ? 1 : 0);
    q.addBindValue(qint64(::getpid()));
    q.addBindValue(QSysInfo::machineHostName());
    if (!q.exec()) {
        error = "cannot start a session in " + options.databasePath + ": "
                + q.lastError().text().toStdString();
        return false;
    }
    session = q.lastInsertId().toLongLong();
    // A bigger page cache than SQLite's 2 MB default keeps the primary key and index pages
    // of a large session in memory while it is written.
    q.exec("PRAGMA cache_size=-32768");
    const QVariant h = store->database().driver()->handle();
    if (!h.isValid() || qstrcmp(h.typeName(), "sqlite3*") != 0
        || !(handle = *static_cast<sqlite3 *const *>(h.constData()))) {
        error = "the Qt SQLite driver gave no database handle";
        return false;
    }
    const char *sql
        = "INSERT OR REPLACE INTO tasks(session_id, task_id, key, function, grp, deps, args, "
          "options, state, status, attempts, worker, submitted_us, started_us, finished_us, "
          "result_stored, result, result_type, result_size, error_type, error_message, "
          "error_root, traceback, output, story, runs) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    if (sqlite3_prepare_v2(handle, sql, -1, &upsertTask, nullptr) != SQLITE_OK) {
        error = std::string("cannot prepare the task writer: ") + sqlite3_errmsg(handle);
        return false;
    }
    return true;
}

Row &Recorder::Impl::row(std::uint64_t id)
{
    bool inserted = false;
    return rows.at(id, inserted);
}

void Recorder::Impl::markDirty(std::uint64_t id, Row &r)
{
    if (!r.dirty) {
        r.dirty = true;
        dirty.push_back(id);
    }
}

void Recorder::Impl::apply(const EventBatch &batch)
{
    for (const Event &e : batch) {
        switch (e.kind) {
        case EventKind::Transition: {
            if (e.to == TaskState::Forgotten)
                break; // released by everyone: the row keeps its last real state
            Row &r = row(e.task);
            r.story.push_back(Step::of(e));
            if (e.to == TaskState::Released && r.terminal()) {
                // Its result let go while a dependent keeps it in the graph: the story says
                // so, and the row stays what the task came to (it is not pending again
                // unless it is computed again).
                markDirty(e.task, r);
                break;
            }
            r.state = e.to;
            r.attempts = std::max(r.attempts, e.attempt);
            if (e.to == TaskState::Processing) { // assigned: as ExecutionStarted says
                r.worker = e.worker;
                if (r.startedUs == 0)
                    r.startedUs = e.timeUs;
            }
            if (r.terminal()) {
                r.finishedUs = e.timeUs;
                // Finished again after a retry: the future was let go at the first outcome
                // (see capture()), so look the task up once more for its new result.
                if (!r.future.valid() && r.tracked && e.to == TaskState::Memory && r.info)
                    r.future = client.findFuture(r.key());
                capture(r);
            }
            markDirty(e.task, r);
            break;
        }
        case EventKind::ExecutionStarted: {
            Row &r = row(e.task);
            r.worker = e.worker;
            if (r.startedUs == 0)
                r.startedUs = e.timeUs;
            markDirty(e.task, r);
            break;
        }
        case EventKind::ExecutionFinished: {
            Row &r = row(e.task);
            r.runs.push_back(
                AttemptRecord{e.attempt, e.worker, e.thread, e.startUs, e.timeUs, e.ok});
            r.worker = e.worker;
            markDirty(e.task, r);
            break;
        }
        case EventKind::TasksAdded: {
            const std::shared_ptr<const EventDetail> submit = e.sharedDetail();
            const TaskList &tasks = *e.tasks();
            for (std::size_t i = 0; i < tasks.size(); ++i) {
                Row &r = row(tasks.id(i));
                r.info = submit;
                r.index = std::uint32_t(i);
                r.submittedUs = e.timeUs;
                markDirty(tasks.id(i), r);
            }
            notePlugin(e.function());
            break;
        }
        case EventKind::TaskAdded:
            break; // made for another subscriber: this one reads TasksAdded
        case EventKind::Log:
            logs.push_back(LogRecord{e.task, e.timeUs, e.text()});
            break;
        case EventKind::WorkerAdded: {
            WorkerRecord &w = workers[e.worker];
            w.id = e.worker;
            w.name = e.text();
            w.threads = int(e.value);
            w.addedUs = e.timeUs;
            dirtyWorkers.insert(e.worker);
            break;
        }
        case EventKind::WorkerRemoved: {
            WorkerRecord &w = workers[e.worker];
            w.id = e.worker;
            w.removedUs = e.timeUs;
            w.removedReason = e.text();
            dirtyWorkers.insert(e.worker);
            break;
        }
        case EventKind::Progress:
            break; // transient: the final state and logs tell the story
        }
    }
}

void Recorder::Impl::apply(TrackItem &item)
{
    // Default options are stored as "" (most tasks of a big map): fewer bytes per row.
    const SubmitOptions defaults;
    const bool plain = item.options.retries == defaults.retries
                       && item.options.priority == defaults.priority
                       && item.options.pure == defaults.pure && item.options.kwargs.empty()
                       && !item.options.timeout;
    Value::Map kwargs = item.options.kwargs;
    Value::Map opts{{"retries", item.options.retries},
                    {"priority", item.options.priority},
                    {"pure", item.options.pure},
                    {"kwargs", Value(std::move(kwargs))}};
    if (item.options.timeout)
        opts["timeout_ms"] = static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(*item.options.timeout).count());
    const auto optionsJson
        = plain ? nullptr : std::make_shared<const std::string>(toJson(Value(std::move(opts))));
    // Moved, not copied: a copy of a Future touches its task's and its engine's reference
    // counts, cache lines the caller and the scheduler are using at the same time.
    for (Future &f : item.futures) {
        if (!f.valid())
            continue;
        const std::uint64_t id = f.id();
        Row &r = row(id);
        try {
            r.argsJson = toJson(Value(client.arguments(f)));
        } catch (const std::exception &) {
            r.argsJson.clear();
        }
        r.optionsJson = optionsJson;
        r.future = std::move(f);
        r.tracked = true;
        if (r.story.empty())
            unseen.push_back(id); // its events may still come; see write()
        if (r.terminal())
            capture(r);
        markDirty(id, r);
    }
}

void Recorder::Impl::takeStateFromFuture(Row &r)
{
    // No transition seen: it happened before the recording started, and only the future
    // says how far the task got (Pending leaves the row as it is).
    const FutureStatus status = r.future.status();
    for (TaskState s : {TaskState::Processing,
                        TaskState::Memory,
                        TaskState::Erred,
                        TaskState::Cancelled,
                        TaskState::Lost})
        if (futureStatusOf(s) == status)
            r.state = s;
}

void Recorder::Impl::identify(Row &r)
{
    if (r.info || !r.future.valid())
        return;
    // No TasksAdded came (submitted before the recording started): the future names it.
    auto info = std::make_shared<EventDetail>();
    info->key = r.future.key();
    info->function = r.future.function();
    r.info = std::move(info);
}

void Recorder::Impl::capture(Row &r)
{
    if (!r.future.valid())
        return;
    identify(r);
    const FutureStatus status = r.future.status();
    if (status == FutureStatus::Finished) {
        try {
            const Value v = r.future.result(std::chrono::seconds(0));
            std::string json = toJson(v);
            r.resultType = &*typeNames.insert(v.typeName()).first;
            r.resultSize = std::int64_t(json.size());
            r.resultStored = json.size() <= options.resultLimitBytes;
            r.resultJson = r.resultStored ? std::move(json) : std::string();
        } catch (const std::exception &) {
            r.future = Future(); // gone again (lost): the state says so
            return;
        }
        r.failure.reset();
    } else if (status == FutureStatus::Error) {
        auto failure = std::make_unique<Failure>();
        if (const std::optional<TaskError> e = r.future.error()) {
            failure->type = e->type;
            failure->message = e->message;
            failure->root = e->rootKey;
            failure->traceback = e->traceback;
        }
        if (options.session.processes)
            failure->output = client.output(r.future);
        r.failure = std::move(failure);
        r.resultStored = false;
        r.resultJson.clear();
        r.resultType = nullptr;
        r.resultSize = -1;
    }
    // Recorded: the recorder must never be what keeps a task alive (a released erred task
    // is forgotten as if nobody recorded it). A later retry that finishes is looked up again
    // by key (apply()).
    r.future = Future();
}

void Recorder::Impl::notePlugin(const std::string &function)
{
    if (!seenFunctions.insert(function).second)
        return;
    const FunctionPtr f = registry ? registry->find(function) : nullptr;
    if (!f)
        return;
    const auto id = std::make_pair(f->plugin, f->pluginPath);
    auto [it, inserted] = plugins.try_emplace(id);
    PluginUse &p = it->second;
    if (inserted) {
        p.name = f->plugin;
        p.version = f->pluginVersion;
        p.path = f->pluginPath;
    }
    p.functions.push_back(function);
    dirtyPlugins.insert(id);
}

void Recorder::Impl::writeTask(std::uint64_t id, Row &r)
{
    identify(r);
    sqlite3_stmt *q = upsertTask;
    static const EventDetail noInfo;
    static const Failure noFailure;
    static const std::string none; // default options, no group
    const EventDetail &info = r.info ? *r.info : noInfo;
    const Failure &f = r.failure ? *r.failure : noFailure;
    // SQLITE_STATIC: every string outlives the sqlite3_step below.
    const auto str = [q](int i, std::string_view s) {
        sqlite3_bind_text(q, i, s.data(), int(s.size()), SQLITE_STATIC);
    };
    const auto name = [q](int i, const char *s) { sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC); };
    const auto num = [q](int i, std::int64_t v) { sqlite3_bind_int64(q, i, v); };
    // Formatted here, once per write.
    const std::string deps = sql::formatIds(r.deps());
    story.clear();
    r.story.forEach([this](const Step &t) { sql::appendTransition(story, t.record()); });
    runs.clear();
    r.runs.forEach([this](const AttemptRecord &a) { sql::appendRun(runs, a); });
    num(1, session);
    num(2, std::int64_t(id));
    str(3, r.key());
    str(4, info.function);
    str(5, info.group ? *info.group : none);
    str(6, deps);
    str(7, r.argsJson);
    str(8, r.optionsJson ? *r.optionsJson : none);
    name(9, toString(r.state));
    name(10, toString(r.status()));
    num(11, r.attempts);
    num(12, r.worker);
    num(13, r.submittedUs);
    num(14, r.startedUs);
    num(15, r.finishedUs);
    num(16, r.resultStored ? 1 : 0);
    str(17, r.resultJson);
    str(18, r.resultType ? *r.resultType : none);
    num(19, r.resultSize);
    str(20, f.type);
    str(21, f.message);
    str(22, f.root);
    str(23, f.traceback);
    str(24, f.output);
    str(25, story);
    str(26, runs);
    const int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        throw std::runtime_error(sqlite3_errmsg(handle));
}

void Recorder::Impl::write(bool everything)
{
    // A tracked task whose events have come since is seen. At a flush every event so far
    // has come (flush() and finish() deliver them first): one with none ran before the
    // recording started, and its future tells the outcome.
    std::erase_if(unseen, [&](std::uint64_t id) {
        Row *r = rows.find(id);
        if (!r || !r->story.empty() || !r->future.valid())
            return true;
        if (!everything)
            return false;
        takeStateFromFuture(*r);
        if (r->terminal())
            capture(*r);
        markDirty(id, *r);
        return true;
    });
    if (dirty.empty() && logs.empty() && dirtyWorkers.empty() && dirtyPlugins.empty())
        return;
    const auto begin = Clock::now();
    // A task that is neither done nor old (submitted within pendingWriteDelay; one submitted
    // before the recording started counts as old) is left for the next round: most tasks of
    // a big map are then written once, finished.
    const std::int64_t youngestUs
        = nowUs()
          - std::chrono::duration_cast<std::chrono::microseconds>(options.pendingWriteDelay)
                .count();
    QSqlDatabase db = store->database();
    std::vector<std::uint64_t> later;
    std::vector<Row *> done;
    try {
        if (!db.transaction())
            throw std::runtime_error(db.lastError().text().toStdString());
        for (std::uint64_t id : dirty) {
            Row *found = rows.find(id);
            if (!found)
                continue;
            Row &r = *found;
            if (!everything && !r.terminal() && r.submittedUs > youngestUs && !r.committed) {
                later.push_back(id);
                continue;
            }
            writeTask(id, r);
            done.push_back(&r);
        }
        if (!logs.empty()) {
            QSqlQuery q(db);
            q.prepare("INSERT INTO logs(session_id, task_id, time_us, text) VALUES(?, ?, ?, ?)");
            for (const LogRecord &l : logs) {
                q.bindValue(0, qint64(session));
                q.bindValue(1, qulonglong(l.task));
                q.bindValue(2, qint64(l.timeUs));
                q.bindValue(3, text(l.text));
                if (!q.exec())
                    throw std::runtime_error(q.lastError().text().toStdString());
            }
        }
        if (!dirtyWorkers.empty()) {
            QSqlQuery q(db);
            q.prepare("INSERT OR REPLACE INTO workers(session_id, worker_id, name, threads, "
                      "added_us, removed_us, reason) VALUES(?, ?, ?, ?, ?, ?, ?)");
            for (int id : dirtyWorkers) {
                const WorkerRecord &w = workers[id];
                q.bindValue(0, qint64(session));
                q.bindValue(1, w.id);
                q.bindValue(2, text(w.name));
                q.bindValue(3, w.threads);
                q.bindValue(4, qint64(w.addedUs));
                q.bindValue(5, qint64(w.removedUs));
                q.bindValue(6, text(w.removedReason));
                if (!q.exec())
                    throw std::runtime_error(q.lastError().text().toStdString());
            }
        }
        if (!dirtyPlugins.empty()) {
            QSqlQuery q(db);
            q.prepare("INSERT OR REPLACE INTO plugins(session_id, name, version, path, hash, "
                      "functions) VALUES(?, ?, ?, ?, ?, ?)");
            for (const auto &id : dirtyPlugins) {
                PluginUse &p = plugins[id];
                if (p.hash.empty()) // here, not when first seen: hashing reads the whole file
                    p.hash = sha256Of(p.path);
                std::string functions;
                for (const std::string &f : p.functions)
                    functions += (functions.empty() ? "" : " ") + f;
                q.bindValue(0, qint64(session));
                q.bindValue(1, text(p.name));
                q.bindValue(2, text(p.version));
                q.bindValue(3, text(p.path));
                q.bindValue(4, text(p.hash));
                q.bindValue(5, text(functions));
                if (!q.exec())
                    throw std::runtime_error(q.lastError().text().toStdString());
            }
        }
        // The session's counts per status, in the same transaction as its task rows.
        std::map<std::string, std::int64_t> nextCounts = counts;
        for (const Row *r : done) {
            if (r->committed)
                --nextCounts[toString(r->committedStatus)];
            ++nextCounts[toString(r->status())];
        }
        if (nextCounts != counts) {
            QSqlQuery q(db);
            q.prepare("UPDATE sessions SET counts = ? WHERE id = ?");
            q.addBindValue(QString::fromStdString(sql::formatCounts(nextCounts)));
            q.addBindValue(qint64(session));
            if (!q.exec())
                throw std::runtime_error(q.lastError().text().toStdString());
        }
        if (!db.commit())
            throw std::runtime_error(db.lastError().text().toStdString());
        counts = std::move(nextCounts);
    } catch (const std::exception &e) {
        // A failed batch (disk full, locked too long) is kept and tried again next round.
        db.rollback();
        log::get("history")->warn("cannot write to {}: {}", options.databasePath, e.what());
        return;
    }
    const std::uint64_t rowsWritten = done.size() + logs.size();

    for (Row *r : done) {
        r->dirty = false;
        r->committed = true;
        r->committedStatus = r->status();
    }
    dirty.swap(later);
    logs.clear();
    dirtyWorkers.clear();
    dirtyPlugins.clear();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
    std::lock_guard lock(statsMutex);
    stats.rowsWritten += rowsWritten;
    stats.transactions += 1;
    stats.writeMs += ms;
}

void Recorder::Impl::finishSession()
{
    QSqlQuery q(store->database());
    q.prepare("UPDATE sessions SET status = 'finished', ended_us = ? WHERE id = ?");
    q.addBindValue(qint64(nowUs()));
    q.addBindValue(qint64(session));
    if (!q.exec())
        log::get("history")->warn(
            "cannot close session {}: {}", session, q.lastError().text().toStdString());
}

} // namespace taskbench::history
