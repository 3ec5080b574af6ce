// runWorkerProcess (taskbench/workerprocess.h): a worker process from its options to its
// loop. It keeps its own log on the original stderr and points fd 1 and 2 at the task output
// capture, maps the scheduler's status page, joins a remote scheduler over TCP (which says
// which plugins to load, and sends those missing here), loads the plugins, connects, and hands
// over to the loop (workerloop.cpp).
//
// A local worker is started by the scheduler's nanny (workers/childprocess.cpp) and proves
// who it is with the token from $TASKBENCH_WORKER_TOKEN; it dies with the scheduler.
#include "plugins/pluginprobe_p.h"
#include "remote/remotejoin_p.h"
#include "remote/workerauth_p.h"
#include "wire/protocol_p.h"
#include "wire/transport_p.h"
#include "workers/outputcapture_p.h"
#include "workers/runtimedir_p.h"
#include "workers/workerloop_p.h"

#include "taskbench/functionregistry.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"
#include "taskbench/workerprocess.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskbench {

using namespace detail;

namespace {

constexpr int kExitConnect = 2;
constexpr int kExitProtocol = 2;

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

} // namespace

int runWorkerProcess(WorkerProcessOptions o)
{
    if (o.help) {
        std::fputs(workerProcessUsage(), stdout);
        return 0;
    }
    if (!o.probe.empty())
        return detail::runPluginProbe(o.probe);
    const bool remote = !o.scheduler.empty();
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
            join.version = o.speakVersion.value_or(proto::kProtocolVersion);
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
    loader.setProbe(false); // this process is the isolation
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
            return kExitConnect;
        }
    }
    wlog()->debug(
        "connected to {} ({} threads, {} functions)", o.connect, o.threads, registry.all().size());
    runWorkerLoop({o, std::move(conn), registry, capture, status, statusSlots});
}

} // namespace taskbench
