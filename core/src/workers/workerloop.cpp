// The worker process loop (see workerloop_p.h): T + 1 threads serve alike, one at a time
// reading the connection while the others run tasks. Results stay here, in a store keyed by
// task id, until the scheduler fetches or releases them; small ones also travel inline with
// their completion. Completions are sent in batches: when the local queue runs dry, or at
// least every millisecond while it does not. Tasks report progress and log lines through the
// WorkerSink interface, as they would in a thread worker.
#include "workers/workerloop_p.h"

#include "util/clock_p.h"
#include "util/spin_p.h"
#include "value/replacerefs_p.h"
#include "wire/protocol_p.h"
#include "workers/attemptmeter_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/logging.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace taskbench::detail {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kExitProtocol = 2;
constexpr auto kFlushInterval = 1ms;
constexpr std::int64_t kExecutorSpinUs = 20;
/// Flush early when this many completion bytes are waiting (keeps frames moderate).
constexpr std::size_t kFlushBytes = std::size_t(4) << 20;
constexpr std::size_t kMaxErrorMessage = 64 * 1024;

/// This thread's id (gettid), cached: it is stored for every task.
long threadId()
{
    thread_local const long tid = long(::gettid());
    return tid;
}

std::shared_ptr<spdlog::logger> wlog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("worker");
    return logger;
}

class WorkerLoop final : public WorkerSink
{
public:
    explicit WorkerLoop(WorkerLoopSetup setup)
        : m_options(setup.options)
        , m_conn(std::move(setup.connection))
        , m_registry(setup.registry)
        , m_status(setup.status)
        , m_statusSlots(setup.statusSlots / 2)
        , m_capture(setup.capture)
        , m_slots(std::size_t(setup.options.threads))
    {
        m_wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }

    [[noreturn]] void run()
    {
        proto::Hello hello;
        hello.version = m_options.speakVersion.value_or(proto::kProtocolVersion);
        hello.pid = ::getpid();
        hello.worker = m_options.id;
        hello.threads = m_options.threads;
        hello.measures = m_meter.enabled();
        if (const char *token = std::getenv(proto::kTokenEnv))
            hello.token = token;
        ::unsetenv(proto::kTokenEnv); // tasks have no business with it
        {
            std::lock_guard lock(m_outMutex);
            proto::appendFrame(m_frames, hello);
        }
        flush();

        // T + 1 threads serve alike: one at a time reads the connection, the others run
        // tasks. The reader that receives work runs it itself and an idle thread takes over
        // the reading: a task starts without a thread hand-off on its critical path (a chain
        // of small tasks is a series of such hand-offs), and a Cancel for a running task is
        // still read at once.
        for (int t = 0; t < m_options.threads; ++t)
            std::thread([this] { serve(); }).detach();
        serve();
    }

    // WorkerSink: what tasks report through their context.
    void completed(int, std::vector<Completion>) override {}
    void progress(std::uint64_t task, int, double fraction, std::string text) override
    {
        queueMessage(proto::Progress{task, fraction, std::move(text)});
    }
    void logLine(std::uint64_t task, int, std::string line) override
    {
        queueMessage(proto::LogLine{task, std::move(line)});
    }

private:
    struct Slot
    {
        std::uint64_t task = 0; ///< id + 1 while running, guarded by m_queueMutex
        std::atomic<bool> cancel{false};
    };

    Clock::time_point m_lastFlushAtomic() const
    {
        return Clock::time_point(Clock::duration(m_lastFlushTicks.load(std::memory_order_relaxed)));
    }

    [[noreturn]] void exitNow(int code, const std::string &why)
    {
        if (code == 0)
            wlog()->debug("exiting: {}", why);
        else
            wlog()->error("exiting with code {}: {}", code, why);
        spdlog::shutdown();
        // _exit: plugin code may still run on other threads; static destructors must not.
        ::_exit(code);
    }

    void handle(proto::Message &m)
    {
        if (!m_gotHello) {
            auto *h = std::get_if<proto::Hello>(&m);
            if (!h)
                exitNow(kExitProtocol,
                        std::string("expected the scheduler's hello, got ")
                            + proto::messageTypeName(m));
            if (const std::string bad = proto::checkHello(*h); !bad.empty())
                exitNow(kExitProtocol, bad);
            if (m_options.id < 0 && h->worker >= 0) {
                m_options.id = h->worker; // before any task: executors read it after a job
                wlog()->info("joined {} as worker {}", m_conn->peer(), h->worker);
            }
            m_gotHello = true;
            return;
        }
        if (auto *e = std::get_if<proto::Execute>(&m))
            return execute(*e);
        if (auto *f = std::get_if<proto::Fetch>(&m))
            return fetch(*f);
        if (auto *s = std::get_if<proto::Store>(&m)) {
            auto value = std::make_shared<const Value>(std::move(s->value));
            std::lock_guard lock(m_storeMutex);
            m_store[s->task] = std::move(value);
            return;
        }
        if (auto *r = std::get_if<proto::Release>(&m)) {
            std::lock_guard lock(m_storeMutex);
            for (std::uint64_t t : r->tasks)
                m_store.erase(t);
            return;
        }
        if (auto *c = std::get_if<proto::Cancel>(&m))
            return cancel(c->task);
        if (std::holds_alternative<proto::Drain>(m))
            return drain();
        if (std::holds_alternative<proto::Shutdown>(m)) {
            flush();
            exitNow(0, "shutdown requested");
        }
        exitNow(kExitProtocol,
                std::string("unexpected message \"") + proto::messageTypeName(m)
                    + "\" from the scheduler");
    }

    void execute(proto::Execute &e)
    {
        std::size_t added = 0;
        std::vector<proto::ExecuteItem> unknown;
        {
            std::lock_guard lock(m_queueMutex);
            for (proto::ExecuteItem &item : e.items) {
                Assignment a;
                a.function = lookup(item.function);
                if (!a.function) {
                    unknown.push_back(std::move(item));
                    continue;
                }
                a.task = item.task;
                a.attempt = item.attempt;
                a.args = std::move(item.args);
                a.key = std::move(item.key);
                a.cancelled = item.cancelled;
                m_queue.push_back(std::move(a));
                ++added;
            }
            m_queued.store(m_queue.size(), std::memory_order_release);
        }
        // The reader (this thread) runs one itself; idle threads take the rest.
        if (added > 1 && m_sleepers.load(std::memory_order_acquire) > 0)
            m_queueCv.notify_all();
        for (const proto::ExecuteItem &item : unknown) {
            Completion c;
            c.task = item.task;
            c.attempt = item.attempt;
            c.startUs = c.endUs = wallClockUs();
            c.errorType = "UnknownFunction";
            c.errorMessage = "function '" + item.function + "' is not loaded in worker "
                             + std::to_string(m_options.id)
                             + " (its plugin failed to load here, or was not passed to it)";
            report(c);
        }
    }

    /// The reader only (one thread at a time: the role passes under m_queueMutex).
    FunctionPtr lookup(const std::string &name)
    {
        auto it = m_functions.find(name);
        if (it != m_functions.end())
            return it->second;
        FunctionPtr fn = m_registry.find(name);
        m_functions.emplace(name, fn);
        return fn;
    }

    void cancel(std::uint64_t task)
    {
        std::lock_guard lock(m_queueMutex);
        for (Slot &s : m_slots)
            if (s.task == task + 1)
                s.cancel.store(true, std::memory_order_relaxed);
        for (Assignment &a : m_queue)
            if (a.task == task)
                a.cancelled = true;
    }

    void drain()
    {
        proto::Drained back;
        {
            std::lock_guard lock(m_queueMutex);
            for (const Assignment &a : m_queue)
                back.tasks.push_back(a.task);
            m_queue.clear();
            m_queued.store(0, std::memory_order_release);
        }
        queueMessage(back);
        flush();
    }

    void fetch(const proto::Fetch &f)
    {
        std::string out;
        std::size_t i = 0;
        while (i < f.tasks.size()) {
            proto::BatchFrame frame(out, proto::BatchFrame::Kind::Fetched);
            for (; i < f.tasks.size() && frame.size() < kFlushBytes; ++i) {
                proto::FetchedItem item;
                item.task = f.tasks[i];
                std::shared_ptr<const Value> v;
                {
                    std::lock_guard lock(m_storeMutex);
                    auto it = m_store.find(item.task);
                    if (it != m_store.end())
                        v = it->second;
                }
                if (!v) {
                    item.error = "worker " + std::to_string(m_options.id)
                                 + " does not hold the result of task " + std::to_string(item.task);
                    frame.add(item);
                    continue;
                }
                const std::size_t mark = frame.size();
                const std::uint32_t countAtMark = frame.count();
                frame.addFetched(item.task, *v);
                if (frame.size() - proto::kFrameHeaderBytes <= proto::kMaxFrameBytes)
                    continue;
                frame.rollback(mark, countAtMark);
                if (countAtMark > 0)
                    break; // alone in the next frame
                item.error = "the result of task " + std::to_string(item.task)
                             + " is too large to transfer (limit "
                             + std::to_string(proto::kMaxFrameBytes >> 20) + " MiB)";
                frame.add(item);
            }
            frame.finish();
        }
        {
            std::lock_guard lock(m_outMutex);
            m_frames.append(out);
        }
        flush();
    }

    void queueMessage(const proto::Message &m)
    {
        {
            std::lock_guard lock(m_outMutex);
            try {
                proto::appendFrame(m_frames, m);
            } catch (const std::exception &e) {
                wlog()->error("cannot send {}: {}", proto::messageTypeName(m), e.what());
                return;
            }
        }
        armFlush();
    }

    void armFlush()
    {
        if (m_flushArmed.exchange(true, std::memory_order_acq_rel))
            return;
        const std::uint64_t one = 1;
        if (m_wake >= 0) {
            [[maybe_unused]] const ssize_t w = ::write(m_wake, &one, sizeof(one));
        }
    }

    /// Sends everything waiting: encoded frames first (log lines before the completion of
    /// the task that wrote them), then one completed frame. Any thread.
    void flush()
    {
        std::lock_guard send(m_sendMutex);
        std::uint32_t count;
        {
            std::lock_guard lock(m_outMutex);
            m_sendFrames.swap(m_frames);
            m_sendItems.swap(m_items);
            count = m_itemCount;
            m_itemCount = 0;
            m_flushArmed.store(false, std::memory_order_release);
            m_lastFlushTicks.store(Clock::now().time_since_epoch().count(),
                                   std::memory_order_relaxed);
        }
        std::string header;
        if (count > 0)
            header = proto::batchFrameHeader(
                proto::BatchFrame::Kind::Completed, count, m_sendItems.size());
        iovec iov[3];
        int n = 0;
        if (!m_sendFrames.empty())
            iov[n++] = {m_sendFrames.data(), m_sendFrames.size()};
        if (count > 0) {
            iov[n++] = {header.data(), header.size()};
            iov[n++] = {m_sendItems.data(), m_sendItems.size()};
        }
        if (n > 0 && !sendAll(iov, n))
            exitNow(0, std::string("cannot write to the scheduler: ") + std::strerror(errno));
        m_sendFrames.clear();
        m_sendItems.clear();
        if (m_sendFrames.capacity() > kFlushBytes * 4)
            std::string().swap(m_sendFrames);
        if (m_sendItems.capacity() > kFlushBytes * 4)
            std::string().swap(m_sendItems);
    }

    bool sendAll(iovec *iov, int n)
    {
        while (n > 0) {
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = std::size_t(n);
            ssize_t sent = ::sendmsg(m_conn->fd(), &msg, MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno == EINTR)
                    continue;
                return false;
            }
            while (n > 0 && std::size_t(sent) >= iov->iov_len) {
                sent -= ssize_t(iov->iov_len);
                ++iov;
                --n;
            }
            if (n > 0) {
                iov->iov_base = static_cast<char *>(iov->iov_base) + sent;
                iov->iov_len -= std::size_t(sent);
            }
        }
        return true;
    }

    /// One poll of the connection as the reader: handles what arrived (and queues the work).
    void readOnce()
    {
        int timeout = -1;
        if (m_flushArmed.load(std::memory_order_acquire)) {
            const auto due = m_lastFlushAtomic() + kFlushInterval;
            const auto now = Clock::now();
            timeout = due <= now
                          ? 0
                          : int(std::chrono::ceil<std::chrono::milliseconds>(due - now).count());
        }
        pollfd fds[2] = {{m_conn->fd(), POLLIN, 0}, {m_wake, POLLIN, 0}};
        const int n = ::poll(fds, m_wake >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            exitNow(1, std::string("poll failed: ") + std::strerror(errno));
        if (n > 0 && m_wake >= 0 && fds[1].revents) {
            std::uint64_t count;
            [[maybe_unused]] const ssize_t r = ::read(m_wake, &count, sizeof(count));
        }
        if (m_flushArmed.load(std::memory_order_acquire)
            && Clock::now() >= m_lastFlushAtomic() + kFlushInterval)
            flush();
        if (n <= 0 || !fds[0].revents)
            return;
        int err = 0;
        const auto st = m_reader.readFrom(m_conn->fd(), &err);
        if (st == proto::FrameReader::ReadStatus::Closed)
            exitNow(0, "the scheduler closed the connection");
        if (st == proto::FrameReader::ReadStatus::Error)
            exitNow(0, std::string("connection error: ") + std::strerror(err));
        std::string_view payload;
        std::string error;
        for (;;) {
            const auto next = m_reader.next(&payload, &error);
            if (next == proto::FrameReader::Next::NeedMore)
                break;
            if (next == proto::FrameReader::Next::Error)
                exitNow(kExitProtocol, "malformed frame from the scheduler: " + error);
            std::optional<proto::Message> m = proto::decodeMessage(payload, &error);
            if (!m)
                exitNow(kExitProtocol, "malformed frame from the scheduler: " + error);
            handle(*m);
        }
    }

    /// What every thread runs: a task when there is one and a slot free, else the reading
    /// when nobody reads, else a nap.
    [[noreturn]] void serve()
    {
        std::string encoded;
        AttemptMeter::Thread meter;
        for (;;) {
            Assignment job;
            std::size_t t = 0;
            bool read = false;
            bool wakeReader = false;
            {
                std::unique_lock lock(m_queueMutex);
                for (;;) {
                    if (!m_queue.empty() && m_running < m_slots.size()) {
                        job = std::move(m_queue.front());
                        m_queue.pop_front();
                        m_queued.store(m_queue.size(), std::memory_order_release);
                        while (m_slots[t].task != 0)
                            ++t;
                        ++m_running;
                        m_slots[t].task = job.task + 1;
                        m_slots[t].cancel.store(job.cancelled, std::memory_order_relaxed);
                        // Nobody reads while this thread runs the task: wake one to take over.
                        wakeReader = !m_reading.load(std::memory_order_relaxed)
                                     && m_sleepers.load(std::memory_order_relaxed) > 0;
                        break;
                    }
                    if (!m_reading.load(std::memory_order_relaxed)) {
                        m_reading.store(true, std::memory_order_relaxed);
                        read = true;
                        break;
                    }
                    // Spin (yielding) briefly before sleeping: a steady stream of small tasks
                    // then never pays a wake-up. Short: on a loaded machine a spinning thread
                    // loses the wake-up priority a sleeping one gets.
                    lock.unlock();
                    spinFor(kExecutorSpinUs, [&] {
                        return m_queued.load(std::memory_order_acquire) != 0
                               || !m_reading.load(std::memory_order_acquire);
                    });
                    lock.lock();
                    if ((!m_queue.empty() && m_running < m_slots.size())
                        || !m_reading.load(std::memory_order_relaxed))
                        continue;
                    m_sleepers.fetch_add(1, std::memory_order_relaxed);
                    m_queueCv.wait(lock);
                    m_sleepers.fetch_sub(1, std::memory_order_relaxed);
                }
            }
            if (read) {
                readOnce();
                std::lock_guard lock(m_queueMutex);
                m_reading.store(false, std::memory_order_release);
                continue; // next round: run what arrived, or read on
            }
            if (wakeReader)
                m_queueCv.notify_one();
            Slot &slot = m_slots[t];
            if (m_status && t < m_statusSlots) {
                // The thread first (read after the task id by whoever finds the task).
                m_status[m_statusSlots + t].store(std::uint64_t(threadId()),
                                                  std::memory_order_relaxed);
                m_status[t].store(job.task + 1, std::memory_order_release);
            }

            Completion c = runJob(job, slot, int(t), meter);
            if (m_status && t < m_statusSlots)
                m_status[t].store(0, std::memory_order_release);
            {
                std::lock_guard lock(m_queueMutex);
                slot.task = 0;
                --m_running;
            }
            report(c, encoded);
        }
    }

    /// Sends a completion (in the next batch; now when the queue ran dry, the batch is large
    /// or the last flush is a while ago) and keeps its value here.
    void report(Completion &c)
    {
        std::string encoded;
        report(c, encoded);
    }
    void report(Completion &c, std::string &encoded)
    {
        if (c.ok) {
            // The value stays here; a small one also travels with the completion.
            const std::size_t bound = proto::cborSizeBound(c.result, proto::kInlineResultBytes);
            c.remote = bound > proto::kInlineResultBytes;
            c.typeName = c.result.typeName();
            c.bytes = c.remote ? proto::cborSizeBound(c.result) : bound;
        }
        if (c.errorMessage.size() > kMaxErrorMessage) {
            c.errorMessage.resize(kMaxErrorMessage);
            c.errorMessage += " [... truncated]";
        }
        encoded.clear();
        proto::appendCompletionItem(encoded, c);
        if (c.ok) {
            auto value = std::make_shared<const Value>(std::move(c.result));
            std::lock_guard lock(m_storeMutex);
            m_store[c.task] = std::move(value);
        }
        bool flushNow;
        {
            std::lock_guard lock(m_outMutex);
            m_items.append(encoded);
            ++m_itemCount;
            flushNow = m_queued.load(std::memory_order_acquire) == 0
                       || m_items.size() >= kFlushBytes
                       || Clock::now() - m_lastFlushAtomic() >= kFlushInterval;
        }
        if (flushNow)
            flush();
        else
            armFlush();
    }

    Completion runJob(Assignment &a, Slot &slot, int t, AttemptMeter::Thread &meter)
    {
        std::string missing;
        for (Value &v : a.args)
            if (v.containsRef() && !resolve(v, &missing)) {
                Completion c;
                c.task = a.task;
                c.attempt = a.attempt;
                c.thread = t;
                c.startUs = c.endUs = wallClockUs();
                c.errorType = proto::kMissingDataError;
                c.errorMessage = missing;
                return c;
            }
        a.cancel = &slot.cancel;
        const off_t mark = m_capture.begin();
        m_meter.begin(meter);
        Completion c = runAssignment(a, m_options.id, t, *this);
        c.usage = m_meter.end(meter);
        if (AttemptMeter::wasQuick(meter))
            c.usage = AttemptUsage(); // the scheduler derives it (proto::Hello::measures)
        c.output = m_capture.end(mark);
        return c;
    }

    /// Replaces Value::ref("#<id>") by the value held under id, anywhere inside v.
    bool resolve(Value &v, std::string *missing)
    {
        return replaceRefs(v, [&](const std::string &key, Value &slot) {
            std::uint64_t id = 0;
            const char *b = key.data() + 1;
            const char *e = key.data() + key.size();
            if (key.empty() || key[0] != '#' || std::from_chars(b, e, id).ptr != e || b == e) {
                *missing = "unresolved future reference '" + key
                           + "' (process workers take '#<task id>')";
                return false;
            }
            std::shared_ptr<const Value> held;
            {
                std::lock_guard lock(m_storeMutex);
                auto it = m_store.find(id);
                if (it != m_store.end())
                    held = it->second;
            }
            if (!held) {
                *missing
                    = "input " + key + " is not held by worker " + std::to_string(m_options.id);
                return false;
            }
            slot = *held;
            return true;
        });
    }

    WorkerProcessOptions &m_options; // id: set by the scheduler's Hello for remote workers
    std::unique_ptr<Connection> m_conn;
    FunctionRegistry &m_registry;
    std::atomic<std::uint64_t> *m_status;
    std::size_t m_statusSlots; ///< task slots (the thread ids follow them)
    OutputCapture &m_capture;
    AttemptMeter m_meter;
    int m_wake = -1;
    bool m_gotHello = false;
    std::unordered_map<std::string, FunctionPtr> m_functions;

    std::mutex m_queueMutex;
    std::condition_variable m_queueCv;
    std::deque<Assignment> m_queue; ///< the function is known: unknown ones fail at once
    std::atomic<std::size_t> m_queued{0};
    std::atomic<int> m_sleepers{0};
    std::vector<Slot> m_slots;          ///< one per task that may run at once (the status page's)
    std::size_t m_running = 0;          ///< slots in use
    std::atomic<bool> m_reading{false}; ///< a thread reads the connection (set under the lock)
    proto::FrameReader m_reader;        ///< the reader's only

    std::mutex m_storeMutex;
    std::unordered_map<std::uint64_t, std::shared_ptr<const Value>> m_store;

    std::mutex m_outMutex; // guards m_frames, m_items, m_itemCount
    std::string m_frames;  // encoded frames waiting (log, progress, fetched...)
    std::string m_items;   // encoded completion items waiting
    std::uint32_t m_itemCount = 0;
    std::atomic<bool> m_flushArmed{false};
    std::atomic<Clock::rep> m_lastFlushTicks{0};
    std::mutex m_sendMutex; // one writer at a time; guards the send buffers
    std::string m_sendFrames;
    std::string m_sendItems;
};

} // namespace

void runWorkerLoop(WorkerLoopSetup setup)
{
    WorkerLoop loop(std::move(setup));
    loop.run();
}

} // namespace taskbench::detail
