// Process workers and their nanny: the scheduler-side half of a taskbench-worker process.
//
// Each ProcessWorker owns one child process and one I/O thread. The scheduler thread only
// queues commands (execute, fetch, store, release, cancel, kill, restart, drain) and wakes
// the I/O thread through an eventfd; the I/O thread encodes them into batched frames, writes
// them without ever blocking on a slow socket, reads and decodes the worker's frames, and
// calls the WorkerSink. (Fast path: when the I/O thread sleeps in poll() with nothing queued,
// the scheduler thread encodes and writes an Execute/Release/Fetch/Cancel itself, under the
// same I/O lock; see sendDirect.) It also is the nanny: it notices the child's death (pidfd,
// socket end, handshake timeout, memory limit), reaps it, works out the cause, and starts a
// fresh process when the scheduler asks for it (restart()).
//
// Which tasks were really running when a worker died: the child publishes the task each of
// its threads runs in a small shared page (memfd, fd 3 of the child). At death, the
// assignments that were not running (still queued in the child, or done but not yet
// reported) are handed back as completions with started = false before died() is called, so
// the scheduler counts a suspicious failure only for the tasks that were actually running.
#include "remote/workergate_p.h"
#include "util/random_p.h"
#include "wire/protocol_p.h"
#include "wire/transport_p.h"
#include "workers/runtimedir_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/logging.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace taskbench::detail {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kHandshakeTimeout = 30s; ///< spawn -> valid Hello (plugins load meanwhile)
constexpr auto kCandidateTimeout = 5s;  ///< an accepted connection must say Hello by then
constexpr auto kMemoryPollLimited = 100ms;
constexpr auto kMemoryPollDisplay = 500ms;
constexpr auto kExitGrace = 2s; ///< connection gone -> SIGKILL if the process lingers
constexpr auto kStopGrace = 1s; ///< Shutdown sent -> SIGKILL
constexpr auto kMaxBackoff = 5s;
constexpr std::size_t kMaxCandidates = 8;
constexpr std::size_t kMaxItemsPerFrame = 1024;
constexpr std::size_t kSoftFrameBytes = std::size_t(4) << 20;
/// The shared status page: one slot per worker thread, holding (task id + 1) or 0.
constexpr std::size_t kStatusBytes = 4096;
constexpr std::size_t kStatusSlots = kStatusBytes / sizeof(std::uint64_t);
/// The fd numbers the child finds its status page and its output file on.
constexpr int kChildStatusFd = 3;
constexpr int kChildOutputFd = 4;
/// Logged from the output of a worker that died (what it printed last: often the reason).
constexpr std::size_t kDeathOutputTail = 2048;

std::shared_ptr<spdlog::logger> workerLog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("worker");
    return logger;
}

class UniqueFd
{
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd)
        : m_fd(fd)
    {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd &&o) noexcept
        : m_fd(std::exchange(o.m_fd, -1))
    {}
    UniqueFd &operator=(UniqueFd &&o) noexcept
    {
        if (this != &o) {
            reset();
            m_fd = std::exchange(o.m_fd, -1);
        }
        return *this;
    }
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    void reset(int fd = -1)
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

std::string signalName(int sig)
{
    if (const char *abbrev = ::sigabbrev_np(sig))
        return std::string("SIG") + abbrev;
    return "signal " + std::to_string(sig);
}

/// "killed by signal SIGSEGV", "exited with code 3".
std::string describeStatus(int status)
{
    if (WIFSIGNALED(status))
        return "killed by signal " + signalName(WTERMSIG(status));
    if (WIFEXITED(status))
        return "exited with code " + std::to_string(WEXITSTATUS(status));
    return "ended with status " + std::to_string(status);
}

/// taskbench-worker next to the running binary.
std::string defaultWorkerExecutable()
{
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n > 0) {
        std::string self(buf, std::size_t(n));
        const auto slash = self.rfind('/');
        if (slash != std::string::npos)
            return self.substr(0, slash + 1) + "taskbench-worker";
    }
    return "taskbench-worker";
}

std::string levelName()
{
    const auto sv = spdlog::level::to_string_view(workerLog()->level());
    return std::string(sv.data(), sv.size());
}

int msUntil(Clock::time_point t, Clock::time_point now)
{
    if (t <= now)
        return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
    return int(std::min<std::int64_t>(ms, 60'000));
}

// Commands from the scheduler thread to the I/O thread.
struct CmdExecute
{
    std::vector<Assignment> batch;
};
struct CmdFetch
{
    std::vector<std::uint64_t> tasks;
};
struct CmdStore
{
    std::uint64_t task;
    Value value;
};
struct CmdRelease
{
    std::vector<std::uint64_t> tasks;
};
struct CmdCancel
{
    std::uint64_t task;
};
struct CmdKill
{
    std::string cause;
};
struct CmdRestart
{};
struct CmdDrain
{};
using Command = std::variant<CmdExecute, // what post() carries to the I/O thread
                             CmdFetch,
                             CmdStore,
                             CmdRelease,
                             CmdCancel,
                             CmdKill,
                             CmdRestart,
                             CmdDrain>;

class ProcessWorker final : public WorkerBackend
{
public:
    ProcessWorker(int id, const ClusterOptions &options, WorkerSink &sink);
    /// A remote worker: talks over the connection the gate handed over, spawns nothing.
    ProcessWorker(int id, std::unique_ptr<RemotePeer> peer, WorkerSink &sink);
    ~ProcessWorker() override { stop(); }

    int id() const override { return m_id; }
    std::string name() const override
    {
        if (m_remote)
            return "tcp-worker-" + std::to_string(m_id) + " (" + m_remote->label
                   + (m_remote->label.empty() ? "" : "@") + m_remote->host + ", pid "
                   + std::to_string(m_remotePid) + ")";
        return "process-worker-" + std::to_string(m_id);
    }
    std::optional<RemoteIdentity> remoteIdentity() const override { return m_remote; }
    int threads() const override { return m_threads; }
    long pid() const override { return m_shownPid.load(std::memory_order_relaxed); }
    void execute(std::vector<Assignment> batch) override
    {
        if (!batch.empty())
            post(CmdExecute{std::move(batch)});
    }
    void drain() override { post(CmdDrain{}); }
    void stop() override;
    bool holdsResults() const override { return true; }
    void fetch(const std::vector<std::uint64_t> &tasks) override
    {
        if (!tasks.empty())
            post(CmdFetch{tasks});
    }
    void releaseResults(const std::vector<std::uint64_t> &tasks) override
    {
        if (!tasks.empty())
            post(CmdRelease{tasks});
    }
    void store(std::uint64_t task, const Value &value) override { post(CmdStore{task, value}); }
    void cancelTask(std::uint64_t task) override { post(CmdCancel{task}); }
    void kill(const std::string &cause) override { post(CmdKill{cause}); }
    void restart() override { post(CmdRestart{}); }
    std::uint64_t memoryBytes() const override { return m_rss.load(std::memory_order_relaxed); }

private:
    enum class State {
        Starting,   ///< spawned, waiting for its Hello
        Connected,  ///< talking
        Exiting,    ///< connection gone or killed; waiting for the process to end
        Dead,       ///< died() reported; waiting for restart()
        Respawning, ///< restart() asked; spawning at m_spawnAt
    };
    struct Candidate
    {
        std::unique_ptr<Connection> conn;
        std::unique_ptr<proto::FrameReader> reader;
        Clock::time_point deadline;
    };

    void post(Command c);
    bool sendDirect(Command &c);
    void wakeIo();
    void ioMain(std::promise<std::string> *started);
    void loop();
    int pollTimeout(Clock::time_point now) const;
    void runCommands();
    void command(CmdExecute &c);
    void command(CmdFetch &c);
    void command(CmdStore &c);
    void command(CmdRelease &c);
    void command(CmdCancel &c);
    void command(CmdKill &c);
    void command(CmdRestart &c);
    void command(CmdDrain &c);
    bool hasProcess() const
    {
        return m_state == State::Starting || m_state == State::Connected
               || m_state == State::Exiting;
    }
    bool acceptsWork() const
    {
        return m_state == State::Starting || m_state == State::Connected
               || m_state == State::Respawning;
    }
    void queueFrame(const proto::Message &m);
    std::string spawn();
    void startIo();
    void remoteLost(const std::string &cause);
    void acceptAll();
    void handleCandidate(std::size_t index);
    void promote(Candidate &c);
    void readConnection();
    void processFrames();
    void handleMessage(proto::Message &m);
    void flushOut();
    void connectionLost(const std::string &reason);
    void protocolError(const std::string &what);
    void killProcess(const std::string &cause);
    void timers(Clock::time_point now);
    void pollMemory();
    bool reap(bool block);
    void processEnded(const std::string &cause);
    void handBack(std::vector<Completion> &back, bool keepRunning);
    void shutdownChild();
    std::string outputTail() const;
    std::string helloFrame() const;

    // Immutable after construction.
    const int m_id;
    const int m_threads;
    WorkerSink &m_sink;
    const std::vector<std::string> m_pluginPaths;
    const std::uint64_t m_memoryLimit;
    std::string m_executable;
    const std::optional<RemoteIdentity> m_remote; ///< set: a remote worker (no process here)
    const long m_remotePid = 0;
    std::unique_ptr<RemotePeer> m_peer; ///< until the I/O thread takes it over
    std::shared_ptr<RuntimeDir> m_dir;
    std::unique_ptr<Listener> m_listener;
    UniqueFd m_wake;
    UniqueFd m_statusFd;
    UniqueFd m_outputFd; ///< the child's stdout/stderr (a memfd per process), for post-mortems
    std::atomic<std::uint64_t> *m_status = nullptr; // kStatusSlots slots, shared with the child

    // Shared with the scheduler thread.
    std::mutex m_cmdMutex;
    std::vector<Command> m_commands;
    /// Held by whoever does the I/O: the I/O thread, except while it sleeps in poll(), or the
    /// scheduler thread on the direct send path (sendDirect). Guards the I/O-thread-only state.
    std::mutex m_ioMutex;
    std::atomic<bool> m_stopRequested{false};
    std::atomic<long> m_shownPid{0};
    std::atomic<std::uint64_t> m_rss{0};
    std::mutex m_stopMutex;
    bool m_stopped = false;
    std::thread m_io;

    // I/O thread only.
    std::vector<Command> m_taking;
    State m_state = State::Dead;
    pid_t m_child = 0;
    bool m_reaped = false; ///< m_child was waited for (its pid must not be signalled)
    UniqueFd m_pidfd;
    UniqueFd m_statm;
    std::string m_token;
    std::unique_ptr<Connection> m_conn;
    std::unique_ptr<proto::FrameReader> m_reader;
    std::string m_out;
    std::size_t m_outPos = 0;
    std::vector<Candidate> m_candidates;
    std::unordered_multimap<std::uint64_t, int> m_inflight; ///< task -> attempt, sent or queued
    std::unordered_map<std::uint64_t, int> m_pendingFetches;
    std::string m_killCause;
    std::string m_lastCause;
    Clock::time_point m_deadline; ///< handshake (Starting) or exit grace (Exiting)
    Clock::time_point m_spawnAt;  ///< Respawning
    Clock::time_point m_nextMemoryPoll;
    bool m_everConnected = false;
    int m_failures = 0; ///< consecutive deaths before the handshake, for the restart backoff
};

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

ProcessWorker::ProcessWorker(int id, std::unique_ptr<RemotePeer> peer, WorkerSink &sink)
    : m_id(id)
    , m_threads(std::max(1, peer->threads))
    , m_sink(sink)
    , m_memoryLimit(0)
    , m_remote(peer->identity)
    , m_remotePid(peer->pid)
    , m_peer(std::move(peer))
{
    m_wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!m_wake.valid())
        throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
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

std::string ProcessWorker::helloFrame() const
{
    proto::Hello h;
    h.pid = ::getpid();
    h.worker = m_id;
    h.threads = m_threads;
    return proto::encodeFrame(h);
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
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

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
    posix_spawnattr_init(&attr);
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
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    // Its own process group: a Ctrl-C meant for the front end does not hit the workers (they
    // end with it through the parent-death signal and the closed socket).
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
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

void ProcessWorker::acceptAll()
{
    while (std::unique_ptr<Connection> c = m_listener->accept()) {
        if (m_candidates.size() >= kMaxCandidates) {
            // Evict the oldest: silent strangers must not keep the real worker out.
            workerLog()->warn("worker {}: dropped a connection from {}: too many pending",
                              m_id,
                              m_candidates.front().conn->peer());
            m_candidates.erase(m_candidates.begin());
        }
        Candidate cand;
        cand.reader = std::make_unique<proto::FrameReader>(64 * 1024); // a Hello is small
        cand.deadline = Clock::now() + kCandidateTimeout;
        cand.conn = std::move(c);
        m_candidates.push_back(std::move(cand));
    }
}

void ProcessWorker::handleCandidate(std::size_t index)
{
    Candidate &c = m_candidates[index];
    auto reject = [&](const std::string &why) {
        workerLog()->warn("worker {}: rejected a connection to {} from {}: {}",
                          m_id,
                          m_listener->address(),
                          c.conn->peer(),
                          why);
        m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(index));
    };
    int err = 0;
    const auto st = c.reader->readFrom(c.conn->fd(), &err, 4096);
    if (st == proto::FrameReader::ReadStatus::WouldBlock)
        return;
    std::string_view payload;
    std::string error;
    const auto next = c.reader->next(&payload, &error);
    if (next == proto::FrameReader::Next::Error)
        return reject(error);
    if (next == proto::FrameReader::Next::NeedMore) {
        if (st == proto::FrameReader::ReadStatus::Closed
            || st == proto::FrameReader::ReadStatus::Error)
            return reject("closed before its handshake");
        return;
    }
    std::optional<proto::Message> m = proto::decodeMessage(payload, &error);
    if (!m)
        return reject("malformed handshake: " + error);
    auto *hello = std::get_if<proto::Hello>(&*m);
    if (!hello)
        return reject(std::string("expected a hello, got ") + proto::messageTypeName(*m));
    if (hello->token != m_token)
        return reject("wrong handshake token");
    if (const std::string bad = proto::checkHello(*hello); !bad.empty()) {
        workerLog()->error("worker {}: {}", m_id, bad);
        m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(index));
        killProcess(bad);
        return;
    }
    if (m_state != State::Starting)
        return reject("a worker is already connected");
    if (hello->pid != m_child)
        workerLog()->warn("worker {}: the process that connected is pid {}, not {} (a wrapper?)",
                          m_id,
                          hello->pid,
                          m_child);
    Candidate promoted = std::move(c);
    m_candidates.erase(m_candidates.begin() + std::ptrdiff_t(index));
    promote(promoted);
}

void ProcessWorker::promote(Candidate &c)
{
    m_conn = std::move(c.conn);
    m_reader = std::move(c.reader);
    m_reader->setMaxFrame(proto::kMaxFrameBytes); // strangers were capped; the worker is not
    m_state = State::Connected;
    m_everConnected = true;
    workerLog()->debug("worker {}: process {} connected", m_id, m_child);
    processFrames();
    flushOut();
}

void ProcessWorker::readConnection()
{
    for (int rounds = 0; rounds < 64 && m_conn; ++rounds) {
        int err = 0;
        const auto st = m_reader->readFrom(m_conn->fd(), &err);
        if (st == proto::FrameReader::ReadStatus::WouldBlock)
            return;
        if (st == proto::FrameReader::ReadStatus::Data) {
            processFrames();
            continue;
        }
        processFrames();
        connectionLost(st == proto::FrameReader::ReadStatus::Closed
                           ? std::string("closed its connection")
                           : std::string("connection error: ") + std::strerror(err));
        return;
    }
}

void ProcessWorker::processFrames()
{
    std::string_view payload;
    std::string error;
    while (m_reader && m_conn) {
        const auto next = m_reader->next(&payload, &error);
        if (next == proto::FrameReader::Next::NeedMore)
            return;
        if (next == proto::FrameReader::Next::Error)
            return protocolError(error);
        std::optional<proto::Message> m = proto::decodeMessage(payload, &error);
        if (!m)
            return protocolError(error);
        handleMessage(*m);
    }
}

void ProcessWorker::handleMessage(proto::Message &m)
{
    if (auto *c = std::get_if<proto::Completed>(&m)) {
        for (const Completion &item : c->items) {
            auto [first, last] = m_inflight.equal_range(item.task);
            for (auto it = first; it != last; ++it)
                if (it->second == item.attempt) {
                    m_inflight.erase(it);
                    break;
                }
        }
        if (!c->items.empty())
            m_sink.completed(m_id, std::move(c->items));
    } else if (auto *l = std::get_if<proto::LogLine>(&m)) {
        m_sink.logLine(l->task, m_id, std::move(l->line));
    } else if (auto *p = std::get_if<proto::Progress>(&m)) {
        m_sink.progress(p->task, m_id, p->fraction, std::move(p->text));
    } else if (auto *f = std::get_if<proto::Fetched>(&m)) {
        for (proto::FetchedItem &item : f->items) {
            auto it = m_pendingFetches.find(item.task);
            if (it != m_pendingFetches.end() && --it->second == 0)
                m_pendingFetches.erase(it);
            m_sink.fetched(m_id, item.task, std::move(item.value), std::move(item.error));
        }
    } else if (auto *d = std::get_if<proto::Drained>(&m)) {
        std::vector<Completion> back;
        for (std::uint64_t task : d->tasks) {
            auto it = m_inflight.find(task);
            if (it == m_inflight.end())
                continue;
            Completion c;
            c.task = task;
            c.attempt = it->second;
            c.started = false;
            back.push_back(std::move(c));
            m_inflight.erase(it);
        }
        if (!back.empty())
            m_sink.completed(m_id, std::move(back));
    } else {
        protocolError(std::string("unexpected message \"") + proto::messageTypeName(m)
                      + "\" from the worker");
    }
}

void ProcessWorker::flushOut()
{
    if (m_state != State::Connected || !m_conn)
        return;
    while (m_outPos < m_out.size()) {
        const ssize_t n = m_conn->writeSome(m_out.data() + m_outPos, m_out.size() - m_outPos);
        if (n == 0)
            break; // the socket is full: POLLOUT resumes
        if (n < 0) {
            connectionLost(std::string("write failed: ") + std::strerror(errno));
            return;
        }
        m_outPos += std::size_t(n);
    }
    if (m_outPos == m_out.size()) {
        m_outPos = 0;
        if (m_out.capacity() > (std::size_t(16) << 20))
            std::string().swap(m_out); // a large transfer went out: give the memory back
        else
            m_out.clear();
    } else if (m_outPos > (std::size_t(1) << 20) && m_outPos > m_out.size() / 2) {
        m_out.erase(0, m_outPos);
        m_outPos = 0;
    }
}

void ProcessWorker::connectionLost(const std::string &reason)
{
    workerLog()->debug("worker {}: {}", m_id, reason);
    if (m_remote)
        return remoteLost("connection to " + m_remote->address + " lost: " + reason);
    m_conn.reset();
    m_reader.reset();
    if (m_state == State::Starting || m_state == State::Connected) {
        m_state = State::Exiting;
        m_deadline = Clock::now() + kExitGrace;
        if (m_killCause.empty())
            m_lastCause = reason; // used only if the process then lingers
    }
}

void ProcessWorker::remoteLost(const std::string &cause)
{
    // No process here to wait for: the worker is gone when its connection is.
    workerLog()->warn("remote worker {} ({}) lost: {}", m_id, m_remote->address, cause);
    m_conn.reset();
    m_reader.reset();
    processEnded(cause);
}

void ProcessWorker::protocolError(const std::string &what)
{
    workerLog()->error(
        "worker {} (pid {}) sent a malformed frame: {}; killing it", m_id, m_child, what);
    killProcess("protocol error: " + what);
    m_conn.reset();
    m_reader.reset();
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
        cause = describeStatus(status);
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

} // namespace

std::unique_ptr<WorkerBackend>
makeProcessWorker(int id, const ClusterOptions &options, WorkerSink &sink)
{
    return std::make_unique<ProcessWorker>(id, options, sink);
}

std::unique_ptr<WorkerBackend>
makeRemoteWorker(int id, std::unique_ptr<RemotePeer> peer, WorkerSink &sink)
{
    return std::make_unique<ProcessWorker>(id, std::move(peer), sink);
}

} // namespace taskbench::detail
