// taskbench-worker: one worker process of a local cluster.
//
//   taskbench-worker --connect <socket> --id N [--threads T] [--plugin <lib.so>]...
//                    [--log-level L] [--status-fd FD] [--output-fd FD]
//   taskbench-worker --scheduler tcp://HOST:PORT --token-file F [--threads T] [--name LABEL]
//                    [--runtime-dir DIR] [--plugin <lib.so>]... [--log-level L]
//
// The second form is a remote worker, started by hand or by a batch system on any machine
// that reaches the scheduler: it proves it knows the cluster token (remotejoin.cpp), gets
// its worker id from the scheduler and the plugin files it lacks (cached by content hash in
// DIR/taskbench-<uid>/plugin-cache).
//
// Started by the scheduler's nanny (core/src/workers/processworker.cpp), never by hand. It loads
// the plugin libraries by path, connects to the scheduler's socket, proves who it is with the token
// from $TASKBENCH_WORKER_TOKEN, and then runs what it is sent on T threads. Results stay here, in a
// store keyed by task id, until the scheduler fetches or releases them; small ones also travel
// inline with their completion. Completions are sent in batches: when the local queue runs dry, or
// at least every millisecond while it does not.
//
// What tasks print is captured: fd 1 and 2 point at a memfd (the one the scheduler passes
// as --output-fd, so that it can show what a dead worker printed last, or one of our own),
// and each task's completion carries what was appended while it ran. With one thread this is exact;
// with several, output of tasks running at the same time may end up in each other's records. The
// worker's own log goes to the original stderr, duplicated before the redirection.
//
// It exits when the socket closes or on Shutdown (0), and on a malformed frame or a
// handshake it cannot accept (2): the nanny then restarts it.
#include "remote/workerauth_p.h"
#include "remotejoin.h"
#include "util/clock_p.h"
#include "util/spin_p.h"
#include "wire/protocol_p.h"
#include "wire/transport_p.h"
#include "workers/runtimedir_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/functionregistry.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"
#include "taskbench/valuecodec.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

using namespace taskbench;
using namespace taskbench::detail;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitProtocol = 2;
constexpr auto kFlushInterval = 1ms;
constexpr std::int64_t kExecutorSpinUs = 20;
/// Flush early when this many completion bytes are waiting (keeps frames moderate).
constexpr std::size_t kFlushBytes = std::size_t(4) << 20;
/// Output kept per task (the tail; the head is elided with a note).
constexpr std::size_t kMaxOutput = std::size_t(1) << 20;
/// The capture file is emptied when no task runs and it has grown past this.
constexpr off_t kTruncateOutputAt = off_t(1) << 20;
constexpr std::size_t kMaxErrorMessage = 64 * 1024;

struct Options
{
    std::string connect;
    int id = -1;
    int threads = 1;
    std::vector<std::string> plugins;
    std::string logLevel = "warn";
    int statusFd = -1;
    int outputFd = -1;
    /// Testing only: announce another protocol version in the Hello.
    std::uint32_t speakVersion = proto::kProtocolVersion;
    // Remote workers (--scheduler): the id comes from the scheduler's Hello.
    std::string scheduler;
    std::string tokenFile;
    std::string name;
    std::string runtimeDir;
};

int usage(const std::string &message)
{
    std::fprintf(stderr,
                 "taskbench-worker: %s\n"
                 "usage: taskbench-worker --connect <socket> --id N [--threads T] "
                 "[--plugin <lib.so>]... [--log-level L] [--status-fd FD] [--output-fd FD]\n"
                 "       (a local worker, started by the Taskbench scheduler)\n"
                 "   or: taskbench-worker --scheduler tcp://HOST:PORT --token-file FILE "
                 "[--threads T] [--name LABEL] [--runtime-dir DIR] [--log-level L]\n"
                 "       (a remote worker; FILE holds the cluster token, mode 0600)\n",
                 message.c_str());
    return kExitUsage;
}

bool parseInt(const char *s, long long &out)
{
    const std::string_view v(s);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && end == v.data() + v.size();
}

/// Writes log lines to a file descriptor (the original stderr), whatever fd 2 is now.
class FdSink final : public spdlog::sinks::base_sink<std::mutex>
{
public:
    explicit FdSink(int fd)
        : m_fd(fd)
    {}

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override
    {
        spdlog::memory_buf_t buf;
        formatter_->format(msg, buf);
        const char *p = buf.data();
        std::size_t left = buf.size();
        while (left > 0) {
            const ssize_t n = ::write(m_fd, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;
            p += n;
            left -= std::size_t(n);
        }
    }
    void flush_() override {}

private:
    int m_fd;
};

/// Points every Taskbench logger of this process at fd (registered before anyone creates
/// them with the default stderr sink, which would land in the captured task output).
void setUpLogging(int fd, const std::string &level, int workerId)
{
    auto sink = std::make_shared<FdSink>(fd);
    sink->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [worker " + std::to_string(workerId)
                      + " %P] [%n] [%l] %v");
    for (const char *name : {"worker", "plugins", "engine", "task", "core"}) {
        if (spdlog::get(name))
            continue;
        try {
            spdlog::register_logger(std::make_shared<spdlog::logger>(name, sink));
        } catch (const spdlog::spdlog_ex &) {
        }
    }
    if (!log::setLevel(level))
        log::setLevel("warn");
    // Every (re)start would repeat the scheduler's own "loaded plugin" lines: only problems
    // are worth repeating, unless debugging.
    const auto plugins = log::get("plugins");
    if (plugins->level() == spdlog::level::info)
        plugins->set_level(spdlog::level::warn);
}

std::shared_ptr<spdlog::logger> wlog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("worker");
    return logger;
}

/// Per-task stdout/stderr capture through a memfd behind fd 1 and 2.
class OutputCapture
{
public:
    /// Captures into fd (the file the scheduler handed over), or into a memfd of our own.
    bool init(int given, std::string *error)
    {
        const int fd = given >= 0 ? given : ::memfd_create("taskbench-task-output", MFD_CLOEXEC);
        if (given >= 0)
            ::fcntl(fd, F_SETFD, FD_CLOEXEC); // tasks that spawn programs must not inherit it
        if (fd < 0) {
            *error = std::string("memfd_create: ") + std::strerror(errno);
            return false;
        }
        std::fflush(stdout);
        std::fflush(stderr);
        if (::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) {
            *error = std::string("dup2: ") + std::strerror(errno);
            ::close(fd);
            return false;
        }
        m_fd = fd;
        return true;
    }
    bool active() const { return m_fd >= 0; }

    off_t begin()
    {
        if (m_fd < 0)
            return 0;
        std::lock_guard lock(m_mutex);
        ++m_running;
        std::fflush(stdout);
        std::fflush(stderr);
        return size();
    }

    std::string end(off_t start)
    {
        if (m_fd < 0)
            return {};
        std::fflush(stdout);
        std::fflush(stderr);
        const off_t stop = size();
        std::string out;
        if (stop > start) {
            const std::size_t total = std::size_t(stop - start);
            off_t from = start;
            if (total > kMaxOutput) {
                out = "[... " + std::to_string(total - kMaxOutput)
                      + " bytes of earlier output elided ...]\n";
                from = stop - off_t(kMaxOutput);
            }
            const std::size_t prefix = out.size();
            out.resize(prefix + std::size_t(stop - from));
            std::size_t got = 0;
            while (got < std::size_t(stop - from)) {
                const ssize_t n = ::pread(m_fd,
                                          out.data() + prefix + got,
                                          std::size_t(stop - from) - got,
                                          from + off_t(got));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                got += std::size_t(n);
            }
            out.resize(prefix + got);
        }
        std::lock_guard lock(m_mutex);
        if (--m_running == 0 && stop > kTruncateOutputAt) {
            // Nobody is between begin() and end(): start the file over. fd 1 and 2 share the
            // memfd's file offset, so one lseek moves both.
            if (::ftruncate(m_fd, 0) == 0)
                ::lseek(m_fd, 0, SEEK_SET);
        }
        return out;
    }

private:
    off_t size() const
    {
        struct stat st;
        return ::fstat(m_fd, &st) == 0 ? st.st_size : 0;
    }

    int m_fd = -1;
    std::mutex m_mutex;
    int m_running = 0;
};

class Worker final : public WorkerSink
{
public:
    Worker(Options &options,
           std::unique_ptr<Connection> conn,
           FunctionRegistry &registry,
           std::atomic<std::uint64_t> *status,
           std::size_t statusSlots,
           OutputCapture &capture)
        : m_options(options)
        , m_conn(std::move(conn))
        , m_registry(registry)
        , m_status(status)
        , m_statusSlots(statusSlots)
        , m_capture(capture)
        , m_slots(std::size_t(options.threads))
    {
        m_wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    }

    [[noreturn]] void run()
    {
        proto::Hello hello;
        hello.version = m_options.speakVersion;
        hello.pid = ::getpid();
        hello.worker = m_options.id;
        hello.threads = m_options.threads;
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
    struct Job
    {
        proto::ExecuteItem item;
        FunctionPtr function;
    };
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
        {
            std::lock_guard lock(m_queueMutex);
            for (proto::ExecuteItem &item : e.items) {
                Job job;
                job.function = lookup(item.function);
                job.item = std::move(item);
                m_queue.push_back(std::move(job));
                ++added;
            }
            m_queued.store(m_queue.size(), std::memory_order_release);
        }
        // The reader (this thread) runs one itself; idle threads take the rest.
        if (added > 1 && m_sleepers.load(std::memory_order_acquire) > 0)
            m_queueCv.notify_all();
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
        for (Job &j : m_queue)
            if (j.item.task == task)
                j.item.cancelled = true;
    }

    void drain()
    {
        proto::Drained back;
        {
            std::lock_guard lock(m_queueMutex);
            for (const Job &j : m_queue)
                back.tasks.push_back(j.item.task);
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
        for (;;) {
            Job job;
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
                        m_slots[t].task = job.item.task + 1;
                        m_slots[t].cancel.store(job.item.cancelled, std::memory_order_relaxed);
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
            if (m_status && t < m_statusSlots)
                m_status[t].store(job.item.task + 1, std::memory_order_release);

            Completion c = runJob(job, slot, int(t));

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
            if (m_status && t < m_statusSlots)
                m_status[t].store(0, std::memory_order_release);
            {
                std::lock_guard lock(m_queueMutex);
                slot.task = 0;
                --m_running;
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
    }

    Completion runJob(Job &job, Slot &slot, int t)
    {
        Completion c;
        c.task = job.item.task;
        c.attempt = job.item.attempt;
        c.thread = t;
        if (!job.function) {
            c.startUs = c.endUs = wallClockUs();
            c.errorType = "UnknownFunction";
            c.errorMessage = "function '" + job.item.function + "' is not loaded in worker "
                             + std::to_string(m_options.id)
                             + " (its plugin failed to load here, or was not passed to it)";
            return c;
        }
        std::string missing;
        for (Value &v : job.item.args)
            if (v.containsRef() && !resolve(v, &missing)) {
                c.startUs = c.endUs = wallClockUs();
                c.errorType = proto::kMissingDataError;
                c.errorMessage = missing;
                return c;
            }
        Assignment a;
        a.task = job.item.task;
        a.attempt = job.item.attempt;
        a.function = std::move(job.function);
        a.args = std::move(job.item.args);
        a.key = std::move(job.item.key);
        a.cancel = &slot.cancel;
        const off_t mark = m_capture.begin();
        c = runAssignment(a, m_options.id, t, *this);
        c.output = m_capture.end(mark);
        return c;
    }

    /// Replaces Value::ref("#<id>") by the value held under id, anywhere inside v.
    bool resolve(Value &v, std::string *missing)
    {
        if (v.isRef()) {
            const std::string &key = v.toRef().key;
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
            v = *held;
            return true;
        }
        if (v.isList()) {
            for (Value &item : v.toList())
                if (item.containsRef() && !resolve(item, missing))
                    return false;
        } else if (v.isMap()) {
            for (auto &kv : v.toMap())
                if (kv.second.containsRef() && !resolve(kv.second, missing))
                    return false;
        }
        return true;
    }

    Options &m_options; // id: set by the scheduler's Hello for remote workers
    std::unique_ptr<Connection> m_conn;
    FunctionRegistry &m_registry;
    std::atomic<std::uint64_t> *m_status;
    std::size_t m_statusSlots;
    OutputCapture &m_capture;
    int m_wake = -1;
    bool m_gotHello = false;
    std::unordered_map<std::string, FunctionPtr> m_functions;

    std::mutex m_queueMutex;
    std::condition_variable m_queueCv;
    std::deque<Job> m_queue;
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

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        long long n = 0;
        if (arg == "--connect") {
            const char *v = value();
            if (!v)
                return usage("--connect needs a socket path");
            o.connect = v;
        } else if (arg == "--id" || arg == "--threads" || arg == "--status-fd"
                   || arg == "--output-fd" || arg == "--speak-version") {
            const char *v = value();
            if (!v || !parseInt(v, n) || n < 0 || n > 1'000'000)
                return usage(arg + " needs a number");
            if (arg == "--id")
                o.id = int(n);
            else if (arg == "--threads")
                o.threads = int(n);
            else if (arg == "--status-fd")
                o.statusFd = int(n);
            else if (arg == "--output-fd")
                o.outputFd = int(n);
            else
                o.speakVersion = std::uint32_t(n);
        } else if (arg == "--plugin") {
            const char *v = value();
            if (!v)
                return usage("--plugin needs a library path");
            o.plugins.push_back(v);
        } else if (arg == "--log-level") {
            const char *v = value();
            if (!v)
                return usage("--log-level needs a level");
            o.logLevel = v;
        } else if (arg == "--scheduler" || arg == "--token-file" || arg == "--name"
                   || arg == "--runtime-dir") {
            const char *v = value();
            if (!v || !*v)
                return usage(arg + " needs a value");
            (arg == "--scheduler"    ? o.scheduler
             : arg == "--token-file" ? o.tokenFile
             : arg == "--name"       ? o.name
                                     : o.runtimeDir)
                = v;
        } else {
            return usage("unknown argument '" + arg + "'");
        }
    }
    const bool remote = !o.scheduler.empty();
    if (remote) {
        std::string host, port;
        if (o.scheduler.rfind("tcp://", 0) != 0 || !splitHostPort(o.scheduler, &host, &port))
            return usage("--scheduler takes tcp://HOST:PORT, got '" + o.scheduler + "'");
        if (o.tokenFile.empty())
            return usage("--scheduler needs --token-file");
        if (!o.connect.empty())
            return usage("--connect and --scheduler exclude each other");
        o.id = -1;
    } else if (o.connect.empty() || o.id < 0) {
        return usage("--connect and --id are required (or --scheduler and --token-file)");
    }
    if (o.threads < 1)
        return usage("--threads must be at least 1");

    // End with the scheduler even if it is killed (the closed socket would tell us too, but
    // not while a task hangs). A remote worker's parent is a shell or a batch system.
    if (!remote)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::signal(SIGPIPE, SIG_IGN);

    // The worker's own log keeps the original stderr; fd 1 and 2 become the capture file.
    const int logFd = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
    setUpLogging(logFd >= 0 ? logFd : 2, o.logLevel, o.id);

    std::atomic<std::uint64_t> *status = nullptr;
    std::size_t statusSlots = 0;
    if (o.statusFd >= 0) {
        struct stat st;
        if (::fstat(o.statusFd, &st) == 0 && st.st_size >= 8) {
            void *p = ::mmap(nullptr,
                             std::size_t(st.st_size),
                             PROT_READ | PROT_WRITE,
                             MAP_SHARED,
                             o.statusFd,
                             0);
            if (p != MAP_FAILED) {
                status = static_cast<std::atomic<std::uint64_t> *>(p);
                statusSlots = std::size_t(st.st_size) / sizeof(std::uint64_t);
            }
        }
        ::close(o.statusFd); // the mapping stays; tasks must not inherit the descriptor
    }

    OutputCapture capture;
    std::string error;
    if (!capture.init(o.outputFd, &error))
        wlog()->warn("task output is not captured: {}", error);

    std::unique_ptr<Connection> conn;
    if (remote) {
        // Join first: the scheduler says which plugins to load (and sends missing ones).
        try {
            RemoteJoin join;
            join.token = auth::readTokenFile(o.tokenFile);
            join.name = o.name;
            join.threads = o.threads;
            join.version = o.speakVersion;
            join.cacheDir = runtimeBaseDir(o.runtimeDir) + "/plugin-cache";
            try {
                conn = connectTo(o.scheduler);
            } catch (const std::exception &e) {
                wlog()->error("{}", e.what());
                return 1;
            }
            for (std::string &path : joinScheduler(conn, join))
                o.plugins.push_back(std::move(path));
        } catch (const std::exception &e) {
            wlog()->error("cannot join {}: {}", o.scheduler, e.what());
            // _exit: a TLS relay thread may still be running; exit-time cleanup of OpenSSL
            // under its feet would crash it.
            spdlog::shutdown();
            ::_exit(kExitProtocol);
        }
    }

    FunctionRegistry registry;
    PluginLoader loader(registry);
    for (const std::string &path : o.plugins) {
        const PluginScanReport report = loader.load(path);
        for (const PluginRefusal &r : report.refused)
            wlog()->error("plugin {} not loaded: {}", r.path, r.reason);
    }

    if (!remote) {
        try {
            conn = connectTo(o.connect);
        } catch (const std::exception &e) {
            wlog()->error("{}", e.what());
            return kExitUsage;
        }
    }
    wlog()->debug(
        "connected to {} ({} threads, {} functions)", o.connect, o.threads, registry.all().size());
    Worker worker(o, std::move(conn), registry, status, statusSlots, capture);
    worker.run();
}
