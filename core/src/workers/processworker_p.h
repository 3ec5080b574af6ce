// The process worker's parts, shared by the files that implement them: the scheduler-side
// half of a taskbench-worker process (or of a remote worker's connection).
//
// Each ProcessWorker owns one child process and one I/O thread. The scheduler thread only
// queues commands (execute, fetch, store, release, cancel, kill, restart, drain) and wakes
// the I/O thread through an eventfd; the I/O thread encodes them into batched frames, writes
// them without ever blocking on a slow socket, reads and decodes the worker's frames, and
// calls the WorkerSink. The class is one object, implemented by concern:
//   workers/processworker.cpp    the adapter: the WorkerBackend face, commands, the I/O loop;
//   workers/childprocess.cpp     the nanny: spawn, memory polling, death, reaping, hand-back;
//   workers/workerconnection.cpp the connection: accept, handshake, frames in and out;
//   remote/remoteworker.cpp      remote mode: a worker whose connection came from the gate.
#pragma once

#include "remote/workergate_p.h"
#include "util/childprocess_p.h"
#include "util/fd_p.h"
#include "wire/protocol_p.h"
#include "wire/transport_p.h"
#include "workers/runtimedir_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/logging.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace taskbench::detail {

inline std::shared_ptr<spdlog::logger> workerLog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("worker");
    return logger;
}

/// Milliseconds from now to t for poll(): 0 when past, at most a minute.
inline int msUntil(std::chrono::steady_clock::time_point t,
                   std::chrono::steady_clock::time_point now)
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
    std::optional<RunningThread> threadOf(std::uint64_t task) const override;

private:
    using Clock = std::chrono::steady_clock;

    static constexpr auto kHandshakeTimeout = std::chrono::seconds(30); ///< spawn -> Hello
    static constexpr auto kCandidateTimeout = std::chrono::seconds(5);  ///< accepted -> Hello
    static constexpr auto kMemoryPollLimited = std::chrono::milliseconds(100);
    static constexpr auto kMemoryPollDisplay = std::chrono::milliseconds(500);
    /// Connection gone -> SIGKILL if the process lingers.
    static constexpr auto kExitGrace = std::chrono::seconds(2);
    static constexpr auto kStopGrace = std::chrono::seconds(1); ///< Shutdown sent -> SIGKILL
    static constexpr auto kMaxBackoff = std::chrono::seconds(5);
    static constexpr std::size_t kMaxCandidates = 8;
    static constexpr std::size_t kMaxItemsPerFrame = 1024;
    static constexpr std::size_t kSoftFrameBytes = std::size_t(4) << 20;
    /// The shared status page: one slot per worker thread, holding (task id + 1) or 0, then
    /// as many words holding the thread id (gettid) of the thread in that slot (see
    /// workerloop_p.h).
    static constexpr std::size_t kStatusBytes = 4096;
    static constexpr std::size_t kStatusSlots = kStatusBytes / sizeof(std::uint64_t) / 2;
    /// The fd numbers the child finds its status page and its output file on.
    static constexpr int kChildStatusFd = 3;
    static constexpr int kChildOutputFd = 4;
    /// Logged from the output of a worker that died (what it printed last: often the reason).
    static constexpr std::size_t kDeathOutputTail = 2048;

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

    // processworker.cpp: commands and the I/O loop.
    void startIo();
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
    void queueFrame(const proto::Message &m);

    // workerconnection.cpp: handshake and frames.
    std::string helloFrame() const;
    void acceptAll();
    void handleCandidate(std::size_t index);
    void promote(Candidate &c);
    void readConnection();
    void processFrames();
    void handleMessage(proto::Message &m);
    /// Fills in a quick attempt's usage, which a measuring worker leaves out.
    void completeUsage(Completion &c);
    void flushOut();
    void connectionLost(const std::string &reason);
    void protocolError(const std::string &what);

    // childprocess.cpp: the nanny.
    std::string spawn();
    void killProcess(const std::string &cause);
    void timers(Clock::time_point now);
    void pollMemory();
    bool reap(bool block);
    void processEnded(const std::string &cause);
    void handBack(std::vector<Completion> &back, bool keepRunning);
    void shutdownChild();
    std::string outputTail() const;

    // remote/remoteworker.cpp
    void remoteLost(const std::string &cause);

    // Immutable after construction.
    const int m_id;
    const int m_threads;
    WorkerSink &m_sink;
    const std::vector<std::string> m_pluginPaths;
    const std::uint64_t m_memoryLimit;
    std::string m_executable;
    const std::optional<RemoteIdentity> m_remote; ///< set: a remote worker (no process here)
    const long m_remotePid = 0;
    // I/O thread: from the worker's Hello, and the last peak it sent (quick attempts reuse it).
    bool m_measures = false;
    std::int64_t m_lastPeakRss = -1;
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

} // namespace taskbench::detail
