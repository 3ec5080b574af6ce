// The nanny of a worker process (see workers/processworker_p.h): spawning taskbench-worker
// with its status page and output capture, polling its memory, killing it, noticing its death
// (pidfd, socket end, handshake timeout, memory limit), reaping it and working out the cause.
//
// Which tasks were really running when a worker died: the child publishes the task each of
// its threads runs in a small shared page (memfd, fd 3 of the child). At death, the
// assignments that were not running (still queued in the child, or done but not yet
// reported) are handed back as completions with started = false before died() is called, so
// the scheduler counts a suspicious failure only for the tasks that were actually running.
#include "workers/processworker_p.h"

#include "util/random_p.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

namespace taskbench::detail {

using namespace std::chrono_literals;

namespace {

std::string levelName()
{
    const auto sv = spdlog::level::to_string_view(workerLog()->level());
    return std::string(sv.data(), sv.size());
}

} // namespace

std::string ProcessWorker::spawn()
{
    if (m_status)
        for (std::size_t i = 0; i < kStatusSlots; ++i)
            m_status[i].store(0, std::memory_order_relaxed);
    m_token = randomHex(16);

    std::vector<std::string> args = {m_executable,
                                     "--connect",
                                     m_listener->address(),
                                     "--id",
                                     std::to_string(m_id),
                                     "--threads",
                                     std::to_string(m_threads),
                                     "--log-level",
                                     levelName()};
    if (m_status) {
        args.push_back("--status-fd");
        args.push_back(std::to_string(kChildStatusFd));
    }
    // The capture file of what tasks print: created here so that, when the process dies,
    // the nanny can still read what it printed last (an abort message, a sanitizer report).
    m_outputFd.reset(::memfd_create("taskbench-worker-output", MFD_CLOEXEC));
    if (m_outputFd.valid() && m_outputFd.get() <= kChildOutputFd)
        m_outputFd.reset(::fcntl(m_outputFd.get(), F_DUPFD_CLOEXEC, kChildOutputFd + 1));
    if (m_outputFd.valid()) {
        args.push_back("--output-fd");
        args.push_back(std::to_string(kChildOutputFd));
    }
    for (const std::string &p : m_pluginPaths) {
        args.push_back("--plugin");
        args.push_back(p);
    }
    std::vector<char *> argv = spawnArgv(args);

    const std::string tokenPrefix = std::string(proto::kTokenEnv) + "=";
    std::string tokenEnv = tokenPrefix + m_token;
    std::vector<char *> envp;
    for (char **e = environ; e && *e; ++e)
        if (std::strncmp(*e, tokenPrefix.c_str(), tokenPrefix.size()) != 0)
            envp.push_back(*e);
    envp.push_back(tokenEnv.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    // Its own process group: a Ctrl-C meant for the front end does not hit the workers (they
    // end with it through the parent-death signal and the closed socket).
    initChildSpawnAttributes(attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (m_status)
        posix_spawn_file_actions_adddup2(&actions, m_statusFd.get(), kChildStatusFd);
    else
        posix_spawn_file_actions_addclose(&actions, kChildStatusFd);
    if (m_outputFd.valid())
        posix_spawn_file_actions_adddup2(&actions, m_outputFd.get(), kChildOutputFd);
    else
        posix_spawn_file_actions_addclose(&actions, kChildOutputFd);
    // Nothing else of ours leaks into the child, even descriptors someone opened without
    // O_CLOEXEC.
    posix_spawn_file_actions_addclosefrom_np(&actions, kChildOutputFd + 1);
    pid_t pid = 0;
    const int rc = m_executable.find('/') == std::string::npos
                       ? ::posix_spawnp(
                           &pid, m_executable.c_str(), &actions, &attr, argv.data(), envp.data())
                       : ::posix_spawn(
                           &pid, m_executable.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return "cannot start worker process " + m_executable + ": " + std::strerror(rc);

    m_child = pid;
    m_reaped = false;
    m_pidfd.reset(int(::syscall(SYS_pidfd_open, pid, 0)));
    m_statm.reset(
        ::open(("/proc/" + std::to_string(pid) + "/statm").c_str(), O_RDONLY | O_CLOEXEC));
    m_shownPid.store(pid);
    m_state = State::Starting;
    m_killCause.clear();
    m_everConnected = false;
    const auto now = Clock::now();
    m_deadline = now + kHandshakeTimeout;
    m_nextMemoryPoll = now;
    workerLog()->debug("worker {}: started process {} ({} threads, {} plugins)",
                       m_id,
                       pid,
                       m_threads,
                       m_pluginPaths.size());
    return {};
}

void ProcessWorker::killProcess(const std::string &cause)
{
    if (m_remote && hasProcess())
        return remoteLost(cause); // dropping the connection ends the remote process
    if (!hasProcess() || m_child <= 0)
        return;
    if (m_killCause.empty())
        m_killCause = cause;
    if (!m_reaped)
        ::kill(m_child, SIGKILL);
    if (m_state != State::Exiting) {
        m_state = State::Exiting;
        m_deadline = Clock::now() + kExitGrace;
    }
}

void ProcessWorker::timers(Clock::time_point now)
{
    for (std::size_t i = m_candidates.size(); i-- > 0;)
        if (now >= m_candidates[i].deadline) {
            workerLog()->warn(
                "worker {}: dropped a connection from {}: no handshake within {} s",
                m_id,
                m_candidates[i].conn->peer(),
                std::chrono::duration_cast<std::chrono::seconds>(kCandidateTimeout).count());
            m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(i));
        }
    if (hasProcess() && !m_pidfd.valid())
        reap(false);
    if (hasProcess() && now >= m_nextMemoryPoll) {
        m_nextMemoryPoll = now + (m_memoryLimit > 0 ? kMemoryPollLimited : kMemoryPollDisplay);
        pollMemory();
    }
    if (m_state == State::Starting && now >= m_deadline) {
        workerLog()->error(
            "worker {} (pid {}) did not connect within {} s; killing it",
            m_id,
            m_child,
            std::chrono::duration_cast<std::chrono::seconds>(kHandshakeTimeout).count());
        killProcess("did not connect within "
                    + std::to_string(
                        std::chrono::duration_cast<std::chrono::seconds>(kHandshakeTimeout).count())
                    + " s");
    } else if (m_state == State::Exiting && now >= m_deadline) {
        if (m_killCause.empty())
            m_killCause = m_lastCause.empty() ? "lost its connection" : m_lastCause;
        ::kill(m_child, SIGKILL);
        reap(true);
    } else if (m_state == State::Respawning && now >= m_spawnAt) {
        const std::string error = spawn();
        if (!error.empty()) {
            workerLog()->error("worker {}: {}", m_id, error);
            ++m_failures;
            processEnded(error);
        }
    }
}

void ProcessWorker::pollMemory()
{
    if (!m_statm.valid())
        return;
    char buf[128];
    const ssize_t n = ::pread(m_statm.get(), buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    unsigned long long size = 0, resident = 0;
    if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return;
    static const std::uint64_t page = std::uint64_t(::sysconf(_SC_PAGESIZE));
    const std::uint64_t rss = resident * page;
    m_rss.store(rss, std::memory_order_relaxed);
    if (m_memoryLimit > 0 && rss > m_memoryLimit && m_killCause.empty()
        && m_state != State::Exiting) {
        workerLog()->warn("worker {} exceeded its memory limit: {} MiB > {} MiB, restarting",
                          m_id,
                          rss >> 20,
                          m_memoryLimit >> 20);
        killProcess("memory limit exceeded");
    }
}

bool ProcessWorker::reap(bool block)
{
    if (m_child <= 0)
        return false;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(m_child, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0)
        return false;
    std::string cause;
    if (r < 0) // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN?)
        cause = "ended (exit status unavailable: " + std::string(std::strerror(errno)) + ")";
    else
        cause = describeExitStatus(status);
    if (!m_killCause.empty())
        cause = m_killCause;
    // Reaped: the pid may be recycled any moment, so nothing may signal it from here on
    // (a protocol error in the frames below must not kill a stranger).
    m_reaped = true;
    // What the process wrote before it ended is still in the socket: deliver it first.
    if (m_conn && m_reader) {
        for (int rounds = 0; rounds < 4096 && m_conn; ++rounds) {
            int err = 0;
            const auto st = m_reader->readFrom(m_conn->fd(), &err);
            processFrames();
            if (st != proto::FrameReader::ReadStatus::Data)
                break;
        }
    }
    processEnded(cause);
    return true;
}

std::optional<RunningThread> ProcessWorker::threadOf(std::uint64_t task) const
{
    const long pid = this->pid();
    if (!m_status || pid <= 0)
        return std::nullopt;
    for (std::size_t i = 0; i < std::size_t(m_threads) && i < kStatusSlots; ++i)
        if (m_status[i].load(std::memory_order_acquire) == task + 1) {
            const std::uint64_t tid = m_status[kStatusSlots + i].load(std::memory_order_acquire);
            return RunningThread{pid, long(tid)};
        }
    return std::nullopt;
}

void ProcessWorker::handBack(std::vector<Completion> &back, bool keepRunning)
{
    std::unordered_set<std::uint64_t> running;
    if (keepRunning && m_status)
        for (std::size_t i = 0; i < std::size_t(m_threads) && i < kStatusSlots; ++i)
            if (const std::uint64_t v = m_status[i].load(std::memory_order_acquire))
                running.insert(v - 1);
    const bool unknown = keepRunning && (!m_status || std::size_t(m_threads) > kStatusSlots);
    for (auto it = m_inflight.begin(); it != m_inflight.end();) {
        if (unknown || running.count(it->first)) {
            ++it;
            continue;
        }
        Completion c;
        c.task = it->first;
        c.attempt = it->second;
        c.started = false;
        back.push_back(std::move(c));
        it = m_inflight.erase(it);
    }
}

void ProcessWorker::processEnded(const std::string &cause)
{
    const pid_t pid = m_child;
    // Only deaths before the handshake (a plugin that crashes while loading, a broken
    // executable) slow the restarts down; a task that kills its worker is the scheduler's
    // business (suspicious counts).
    if (pid > 0)
        m_failures = m_everConnected ? 0 : m_failures + 1;
    // Hand back what never ran; what was running stays outstanding: died() covers it.
    std::vector<Completion> back;
    handBack(back, pid > 0 || m_remote); // remote: no status page, all in flight may run
    m_inflight.clear();
    const std::string gone = "worker " + std::to_string(m_id) + " died (" + cause + ")";
    std::vector<std::uint64_t> fetches;
    for (const auto &[task, count] : m_pendingFetches)
        for (int i = 0; i < count; ++i)
            fetches.push_back(task);
    m_pendingFetches.clear();

    m_conn.reset();
    m_reader.reset();
    m_candidates.clear();
    m_pidfd.reset();
    m_statm.reset();
    m_out.clear();
    m_outPos = 0;
    m_child = 0;
    m_shownPid.store(0);
    m_rss.store(0);
    m_state = State::Dead;
    m_lastCause = cause;
    m_killCause.clear();
    if (pid > 0) {
        const std::string tail = outputTail();
        if (tail.empty())
            workerLog()->info("worker {} (pid {}) ended: {}", m_id, pid, cause);
        else
            workerLog()->warn(
                "worker {} (pid {}) ended: {}; the end of its output:\n{}", m_id, pid, cause, tail);
    }
    m_outputFd.reset();

    if (m_stopRequested.load())
        return;
    if (!back.empty())
        m_sink.completed(m_id, std::move(back));
    // died() first: the scheduler then knows the held results are lost (their fetches are
    // retried after the recomputation) and ignores these replies; a fetch failure from a
    // worker it still believes alive would be final.
    m_sink.died(m_id, cause);
    for (std::uint64_t t : fetches)
        m_sink.fetched(m_id, t, std::nullopt, gone);
}

std::string ProcessWorker::outputTail() const
{
    if (!m_outputFd.valid())
        return {};
    struct stat st;
    if (::fstat(m_outputFd.get(), &st) != 0 || st.st_size <= 0)
        return {};
    const off_t from = std::max<off_t>(0, st.st_size - off_t(kDeathOutputTail));
    std::string tail(std::size_t(st.st_size - from), '\0');
    const ssize_t n = ::pread(m_outputFd.get(), tail.data(), tail.size(), from);
    tail.resize(n > 0 ? std::size_t(n) : 0);
    if (from > 0) // start at a line
        if (const auto nl = tail.find('\n'); nl != std::string::npos && nl + 1 < tail.size())
            tail.erase(0, nl + 1);
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r'))
        tail.pop_back();
    return tail;
}

void ProcessWorker::shutdownChild()
{
    m_candidates.clear();
    if (m_remote && m_state == State::Connected && m_conn) {
        queueFrame(proto::Shutdown{}); // best effort: the closed connection ends it too
        flushOut();
    }
    if (hasProcess() && m_child > 0) {
        if (m_state == State::Connected && m_conn) {
            queueFrame(proto::Shutdown{});
            flushOut();
        }
        const auto deadline = Clock::now() + kStopGrace;
        bool ended = false;
        while (!ended && Clock::now() < deadline) {
            if (m_pidfd.valid()) {
                pollfd p{m_pidfd.get(), POLLIN, 0};
                ::poll(&p, 1, msUntil(deadline, Clock::now()));
            } else {
                std::this_thread::sleep_for(5ms);
            }
            int status = 0;
            const pid_t r = ::waitpid(m_child, &status, WNOHANG);
            ended = r == m_child || (r < 0 && errno == ECHILD);
        }
        if (!ended) {
            ::kill(m_child, SIGKILL);
            int status = 0;
            while (::waitpid(m_child, &status, 0) < 0 && errno == EINTR) {
            }
        }
        workerLog()->debug("worker {}: process {} stopped", m_id, m_child);
    }
    m_child = 0;
    m_state = State::Dead;
    m_shownPid.store(0);
    m_conn.reset();
    m_reader.reset();
    m_pidfd.reset();
    m_statm.reset();
    m_outputFd.reset();
    m_listener.reset();
    m_dir.reset();
}

} // namespace taskbench::detail
