// Process workers: the adapter between the scheduler and a worker process (see
// workers/processworker_p.h for the parts). The scheduler thread queues commands and wakes
// the I/O thread, which runs them, polls the connection, the listener, the child's pidfd and
// the timers, and writes what is queued. Fast path: when the I/O thread sleeps in poll() with
// nothing queued, the scheduler thread encodes and writes an Execute/Release/Fetch/Cancel
// itself, under the same I/O lock (sendDirect).
#include "workers/processworker_p.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

namespace taskbench::detail {

using namespace std::chrono_literals;

ProcessWorker::ProcessWorker(int id, const ClusterOptions &options, WorkerSink &sink)
    : m_id(id)
    , m_threads(std::max(1, options.threadsPerWorker))
    , m_sink(sink)
    , m_pluginPaths(options.pluginPaths)
    , m_memoryLimit(options.memoryLimitBytes)
    , m_executable(options.workerExecutable.empty() ? defaultWorkerExecutable()
                                                    : options.workerExecutable)
{
    if (m_executable.find('/') != std::string::npos && ::access(m_executable.c_str(), X_OK) != 0)
        throw std::runtime_error("cannot start worker process " + m_executable + ": "
                                 + std::strerror(errno)
                                 + " (set ClusterOptions::workerExecutable)");
    static std::atomic<unsigned> serial{0};
    m_dir = RuntimeDir::acquire(options.runtimeDir);
    m_listener = listenUnix(m_dir->path() + "/worker-" + std::to_string(id) + "-"
                            + std::to_string(serial.fetch_add(1)) + ".sock");
    m_wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!m_wake.valid())
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    // The status page is an optimisation (precise suspicious counts); run without it if the
    // kernel refuses a memfd.
    UniqueFd status(::memfd_create("taskbench-worker-status", MFD_CLOEXEC));
    if (status.valid() && status.get() <= kChildOutputFd) // keep 3 and 4 free for the child
        status.reset(::fcntl(status.get(), F_DUPFD_CLOEXEC, kChildOutputFd + 1));
    if (status.valid() && ::ftruncate(status.get(), kStatusBytes) == 0) {
        void *p
            = ::mmap(nullptr, kStatusBytes, PROT_READ | PROT_WRITE, MAP_SHARED, status.get(), 0);
        if (p != MAP_FAILED) {
            m_status = static_cast<std::atomic<std::uint64_t> *>(p);
            m_statusFd = std::move(status);
        }
    }
    startIo();
}

void ProcessWorker::startIo()
{
    std::promise<std::string> started;
    std::future<std::string> result = started.get_future();
    m_io = std::thread([this, &started] { ioMain(&started); });
    const std::string error = result.get();
    if (!error.empty()) {
        m_io.join();
        m_stopped = true;
        if (m_status)
            ::munmap(m_status, kStatusBytes);
        throw std::runtime_error(error);
    }
}

void ProcessWorker::stop()
{
    {
        std::lock_guard lock(m_stopMutex);
        if (m_stopped)
            return;
        m_stopped = true;
    }
    m_stopRequested.store(true);
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(m_wake.get(), &one, sizeof(one));
    if (m_io.joinable()) {
        if (m_io.get_id() == std::this_thread::get_id())
            m_io.detach(); // called from a sink callback: the loop ends on its own
        else
            m_io.join();
    }
    if (m_status) {
        ::munmap(m_status, kStatusBytes);
        m_status = nullptr;
    }
}

void ProcessWorker::post(Command c)
{
    if (sendDirect(c))
        return;
    bool wake;
    {
        std::lock_guard lock(m_cmdMutex);
        wake = m_commands.empty();
        m_commands.push_back(std::move(c));
    }
    // The I/O thread clears the eventfd before it takes the queue, so a push that found the
    // queue non-empty is always picked up with the earlier one.
    if (wake)
        wakeIo();
}

void ProcessWorker::wakeIo()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(m_wake.get(), &one, sizeof(one));
}

bool ProcessWorker::sendDirect(Command &c)
{
    // The fast path of a chain of small tasks: when the I/O thread sleeps in poll() and
    // nothing is queued ahead (order matters: a Store before the Execute that reads it), the
    // calling thread encodes and writes the frame itself. That saves an eventfd wake-up and a
    // thread switch per message, a large part of a round trip on a busy 2-core machine.
    if (!std::holds_alternative<CmdExecute>(c) && !std::holds_alternative<CmdRelease>(c)
        && !std::holds_alternative<CmdFetch>(c) && !std::holds_alternative<CmdCancel>(c))
        return false;
    std::unique_lock io(m_ioMutex, std::try_to_lock);
    if (!io.owns_lock() || m_stopRequested.load())
        return false;
    {
        std::lock_guard lock(m_cmdMutex);
        if (!m_commands.empty())
            return false;
    }
    if (m_state != State::Connected || !m_conn || !m_out.empty())
        return false;
    std::visit([this](auto &cmd) { command(cmd); }, c);
    flushOut();
    // The I/O thread polls with what it saw before sleeping: wake it when the socket was full
    // (it must watch POLLOUT) or the connection went away.
    if (m_state != State::Connected || !m_conn || !m_out.empty())
        wakeIo();
    return true;
}

void ProcessWorker::ioMain(std::promise<std::string> *started)
{
    // Spawned from this thread: the child's parent-death signal (PR_SET_PDEATHSIG) follows
    // the thread that created it, and this thread lives exactly as long as the worker.
    std::string error;
    try {
        m_out = helloFrame();
        if (m_peer) {
            Candidate c{std::move(m_peer->conn), std::move(m_peer->reader), Clock::now()};
            m_peer.reset();
            promote(c);
        } else {
            error = spawn();
        }
    } catch (const std::exception &e) {
        error = e.what();
    }
    started->set_value(error);
    if (!error.empty())
        return;
    try {
        loop();
    } catch (const std::exception &e) {
        workerLog()->critical("worker {}: I/O thread failed: {}", m_id, e.what());
    }
    std::lock_guard io(m_ioMutex);
    shutdownChild();
}

int ProcessWorker::pollTimeout(Clock::time_point now) const
{
    int timeout = -1;
    auto consider = [&](Clock::time_point t) {
        const int ms = msUntil(t, now);
        if (timeout < 0 || ms < timeout)
            timeout = ms;
    };
    if (hasProcess() && !m_remote) {
        consider(m_nextMemoryPoll);
        if (!m_pidfd.valid())
            consider(now + 50ms); // no pidfd: notice the exit by polling waitpid
    }
    if (m_state == State::Starting || m_state == State::Exiting)
        consider(m_deadline);
    if (m_state == State::Respawning)
        consider(m_spawnAt);
    for (const Candidate &c : m_candidates)
        consider(c.deadline);
    return timeout;
}

void ProcessWorker::loop()
{
    std::vector<pollfd> fds;
    std::unique_lock io(m_ioMutex);
    while (!m_stopRequested.load()) {
        fds.clear();
        fds.push_back({m_wake.get(), POLLIN, 0});
        fds.push_back({m_listener ? m_listener->fd() : -1, POLLIN, 0}); // remote: none
        Connection *polledConn = m_conn.get();
        const std::size_t connAt = fds.size();
        if (polledConn) {
            short events = POLLIN;
            if (m_state == State::Connected && m_outPos < m_out.size())
                events |= POLLOUT;
            fds.push_back({polledConn->fd(), events, 0});
        }
        const pid_t polledChild = m_child;
        const std::size_t pidAt = fds.size();
        if (m_pidfd.valid())
            fds.push_back({m_pidfd.get(), POLLIN, 0});
        const std::size_t candidatesAt = fds.size();
        const std::size_t polledCandidates = m_candidates.size();
        for (const Candidate &c : m_candidates)
            fds.push_back({c.conn->fd(), POLLIN, 0});

        const int timeout = pollTimeout(Clock::now());
        io.unlock(); // the scheduler may write directly meanwhile (sendDirect)
        const int n = ::poll(fds.data(), fds.size(), timeout);
        io.lock();
        if (n < 0 && errno != EINTR) {
            workerLog()->error("worker {}: poll failed: {}", m_id, std::strerror(errno));
            std::this_thread::sleep_for(10ms);
        }
        if (m_stopRequested.load())
            break;
        if (n > 0 && fds[0].revents) {
            std::uint64_t count;
            [[maybe_unused]] const ssize_t r = ::read(m_wake.get(), &count, sizeof(count));
        }
        runCommands();
        if (n > 0) {
            if (fds[1].revents & POLLIN)
                acceptAll();
            if (polledConn && m_conn.get() == polledConn && fds[connAt].revents) {
                if (fds[connAt].revents & POLLOUT)
                    flushOut();
                if (m_conn.get() == polledConn
                    && (fds[connAt].revents & (POLLIN | POLLHUP | POLLERR)))
                    readConnection();
            }
            // Back to front: handling one may remove it (promotion, rejection).
            for (std::size_t i = polledCandidates; i-- > 0;)
                if (i < m_candidates.size() && fds[candidatesAt + i].revents)
                    handleCandidate(i);
            if (pidAt < fds.size() && fds[pidAt].fd == m_pidfd.get() && m_child == polledChild
                && polledChild != 0 && fds[pidAt].revents)
                reap(false);
        }
        timers(Clock::now());
        flushOut();
    }
}

void ProcessWorker::runCommands()
{
    {
        std::lock_guard lock(m_cmdMutex);
        m_taking.swap(m_commands);
    }
    for (Command &c : m_taking)
        std::visit([this](auto &cmd) { command(cmd); }, c);
    m_taking.clear();
}

void ProcessWorker::queueFrame(const proto::Message &m)
{
    try {
        proto::appendFrame(m_out, m);
    } catch (const std::exception &e) {
        workerLog()->error(
            "worker {}: cannot send {}: {}", m_id, proto::messageTypeName(m), e.what());
    }
}

void ProcessWorker::command(CmdExecute &c)
{
    if (!acceptsWork()) {
        // Assigned after the death was noticed but before the scheduler handled died(): the
        // scheduler counts these with the tasks that were on the dead worker.
        workerLog()->debug(
            "worker {}: dropping {} assignments (process is gone)", m_id, c.batch.size());
        return;
    }
    std::vector<Completion> refused;
    std::size_t i = 0;
    while (i < c.batch.size()) {
        proto::BatchFrame frame(m_out, proto::BatchFrame::Kind::Execute);
        for (; i < c.batch.size() && frame.count() < kMaxItemsPerFrame
               && frame.size() < kSoftFrameBytes;
             ++i) {
            const std::size_t mark = frame.size();
            const std::uint32_t countAtMark = frame.count();
            frame.add(c.batch[i]);
            if (frame.size() - proto::kFrameHeaderBytes <= proto::kMaxFrameBytes) {
                m_inflight.emplace(c.batch[i].task, c.batch[i].attempt);
                continue;
            }
            frame.rollback(mark, countAtMark);
            if (countAtMark > 0)
                break; // retry it alone in the next frame
            Completion e;
            e.task = c.batch[i].task;
            e.attempt = c.batch[i].attempt;
            e.errorType = "ValueError";
            e.errorMessage = "the arguments are too large to send to a worker process (limit "
                             + std::to_string(proto::kMaxFrameBytes >> 20) + " MiB)";
            refused.push_back(std::move(e));
        }
        frame.finish();
    }
    if (!refused.empty())
        m_sink.completed(m_id, std::move(refused));
}

void ProcessWorker::command(CmdFetch &c)
{
    if (!acceptsWork()) {
        const std::string why = "worker " + std::to_string(m_id) + " is not running ("
                                + (m_lastCause.empty() ? "stopped" : m_lastCause) + ")";
        for (std::uint64_t t : c.tasks)
            m_sink.fetched(m_id, t, std::nullopt, why);
        return;
    }
    for (std::uint64_t t : c.tasks)
        ++m_pendingFetches[t];
    queueFrame(proto::Fetch{std::move(c.tasks)});
}

void ProcessWorker::command(CmdStore &c)
{
    if (acceptsWork())
        queueFrame(proto::Store{c.task, std::move(c.value)});
}

void ProcessWorker::command(CmdRelease &c)
{
    if (acceptsWork())
        queueFrame(proto::Release{std::move(c.tasks)});
}

void ProcessWorker::command(CmdCancel &c)
{
    if (acceptsWork())
        queueFrame(proto::Cancel{c.task});
}

void ProcessWorker::command(CmdKill &c)
{
    if (hasProcess())
        killProcess(c.cause);
}

void ProcessWorker::command(CmdRestart &)
{
    if (m_state != State::Dead || m_remote)
        return; // alive (or already coming back): nothing to do
    auto delay = Clock::duration::zero();
    if (m_failures > 0)
        delay = std::min<Clock::duration>(100ms * (1 << std::min(m_failures - 1, 10)), kMaxBackoff);
    if (delay > Clock::duration::zero())
        workerLog()->info("worker {}: restarting in {} ms ({} failed starts in a row)",
                          m_id,
                          std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
                          m_failures);
    m_state = State::Respawning;
    m_spawnAt = Clock::now() + delay;
    m_out = helloFrame();
    m_outPos = 0;
}

void ProcessWorker::command(CmdDrain &)
{
    if (acceptsWork())
        queueFrame(proto::Drain{});
}

std::unique_ptr<WorkerBackend>
makeProcessWorker(int id, const ClusterOptions &options, WorkerSink &sink)
{
    return std::make_unique<ProcessWorker>(id, options, sink);
}

} // namespace taskbench::detail
