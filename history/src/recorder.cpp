// Recorder: engine events -> task rows, written in batched transactions on a thread of its
// own (see recorder.h). The engine-side callback only appends the batch to a shared queue;
// the thread here folds it into rows (recorderrows.cpp) and writes them (sessionwriter.cpp).
#include "taskbench/history/recorder.h"

#include "queuedevents_p.h"
#include "recorderrows_p.h"
#include "sessionwriter_p.h"

#include "taskbench/history/historystore.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <variant>

#include <pthread.h>
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
      | eventBit(EventKind::WorkerAdded) | eventBit(EventKind::WorkerRemoved)
      | eventBit(EventKind::Steering);

/// Queued events that wake the recorder before its interval is up.
constexpr std::size_t kDrainEvents = 4 * 1024;

/// A backlog: more queued events than this are folded task range by task range (see
/// foldInRanges()). The recorder runs niced and falls behind a big map; its events, folded
/// in the order they came, would make a row for every task of the backlog at once (a row
/// is ~15 times a queued event), since each is submitted long before it finishes.
constexpr std::size_t kBacklogEvents = 64 * 1024;
/// Task ids per range of a backlog's fold, and the rows in memory that make the recorder
/// write before its interval is up.
constexpr std::uint64_t kRangeIds = 32 * 1024;
constexpr std::size_t kMaxLiveRows = 32 * 1024;

// Engine batches are queued in the recorder's compact form (QueuedEvents, a QueueItem): the
// engine's batch goes back to its pool as soon as the other subscribers are done with it,
// and a backlog of a big map costs about a quarter of what the events did.

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
    bool interrupted = false; ///< set with `stopping`: how the session ends
    bool closed = false;      ///< the thread has stopped: nothing more is taken

    void push(QueueItem item, std::size_t events)
    {
        std::lock_guard lock(mutex);
        if (closed || stopping)
            return;
        queue.push_back(std::move(item));
        queuedEvents += events;
        // Woken early rather than left to its interval: folding as the events come keeps
        // the backlog (and its memory) small while the CPU allows.
        if (queuedEvents > kDrainEvents)
            wake.notify_one();
    }
};

} // namespace

struct Recorder::Impl
{
    Client &client;
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
    SessionRows rows{client, options};
    SessionWriter writer;

    Impl(Client &c, RecorderOptions o)
        : client(c)
        , options(std::move(o))
    {}

    void run(std::promise<void> &started);
    bool open();
    void write(bool everything);
    void close();
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
        e.timeUs = wallClockUs();
        d->shared->push(QueuedEvents(std::make_shared<const EventBatch>(EventBatch{e})), 1);
    }
    std::shared_ptr<Shared> shared = d->shared;
    d->subscription = client.subscribeShared(
        [shared](const EventBatchPtr &batch) {
            QueuedEvents events(batch); // outside the lock
            const std::size_t n = events.size();
            if (n > 0)
                shared->push(std::move(events), n);
        },
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
    const bool interrupted = d->options.interrupted && d->options.interrupted();
    {
        std::lock_guard lock(d->shared->mutex);
        d->shared->stopping = true;
        d->shared->interrupted = interrupted;
    }
    d->shared->wake.notify_one();
    d->thread.join();
}

RecorderStats Recorder::stats() const
{
    RecorderStats s;
    {
        std::lock_guard lock(d->statsMutex);
        s = d->stats;
    }
    std::lock_guard lock(d->shared->mutex);
    s.queuedEvents = d->shared->queuedEvents;
    return s;
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
    if (!open()) {
        close();
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
        std::size_t taken = 0;
        std::uint64_t flushTicket = 0;
        {
            std::unique_lock lock(shared->mutex);
            shared->wake.wait_for(lock, options.flushInterval, [&] {
                return shared->stopping || shared->flushRequested > shared->flushDone
                       || shared->queuedEvents > kDrainEvents;
            });
            taken = shared->queuedEvents;
            items.swap(shared->queue);
            shared->queuedEvents = 0;
            stop = shared->stopping;
            flushTicket = shared->flushRequested;
            flushing = flushTicket > shared->flushDone;
        }
        if (taken > kBacklogEvents) {
            foldInRanges(items, rows, kRangeIds, [this] {
                if (rows.rows.live() > kMaxLiveRows)
                    write(false);
            });
        } else {
            for (QueueItem &item : items) {
                if (auto *batch = std::get_if<QueuedEvents>(&item))
                    batch->applyTo(rows);
                else
                    rows.apply(std::get<TrackItem>(item));
            }
        }
        items.clear();
        {
            std::lock_guard lock(statsMutex);
            stats.events += taken;
            stats.rowsInMemory = rows.rows.live();
        }
        // Events are folded as they come (above), a backlog a range of tasks at a time. The
        // database is written once per interval, so a busy run pays for few
        // transactions and most tasks are written once, finished; and while events keep
        // coming faster than one drain per wake-up, only once per busyWriteInterval: SQL and
        // file writes would take CPU the run is using. Rows beyond kMaxLiveRows are written
        // (and the finished ones archived) at once: memory bounds the batching.
        const bool busy = taken > kDrainEvents;
        const auto sinceWrite = Clock::now() - lastWrite;
        if (stop || flushing || (!busy && sinceWrite >= options.flushInterval)
            || sinceWrite >= options.busyWriteInterval || rows.rows.live() > kMaxLiveRows) {
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
    bool interrupted = false;
    {
        std::lock_guard lock(shared->mutex);
        interrupted = shared->interrupted;
    }
    writer.finish(interrupted ? "interrupted" : "finished");
    rows.rows.clear(); // releases tracked futures on this thread
    close();
    std::lock_guard lock(shared->mutex);
    shared->flushDone = shared->flushRequested;
    shared->written.notify_all();
}

bool Recorder::Impl::open()
{
    store = std::make_unique<HistoryStore>();
    if (!store->open(options.databasePath)) {
        error = store->errorString();
        return false;
    }
    notices = store->notices();
    if (!writer.start(*store, options, error))
        return false;
    session = writer.session();
    // An archived row read back: through the store, on this thread, as the writer uses it.
    rows.load = [this](std::uint64_t id) -> std::optional<TaskRecord> {
        TaskQuery q;
        q.session = session;
        q.ids = {id};
        std::vector<TaskRecord> found = store->tasks(q);
        if (found.empty())
            return std::nullopt;
        return std::move(found.front());
    };
    return true;
}

void Recorder::Impl::write(bool everything)
{
    rows.settleUnseen(everything);
    const auto begin = Clock::now();
    const std::optional<std::uint64_t> written = writer.write(rows, everything);
    if (!written)
        return;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
    std::lock_guard lock(statsMutex);
    stats.rowsWritten += *written;
    stats.rowsInMemory = rows.rows.live();
    stats.transactions += 1;
    stats.writeMs += ms;
}

void Recorder::Impl::close()
{
    rows.load = nullptr;
    writer.close(); // its statements go before the connection does
    store.reset();
}

} // namespace taskbench::history
