// The worker process of a cluster (taskbench-worker) as a library call: its command line and
// its loop. The executable in app/worker is only a main() over these two functions; the loop
// itself (handshake, task threads, result store, output capture) lives in core/src/workers/
// because it speaks core's private wire protocol. Not part of the plugin SDK: it is installed
// for the worker executable, and for embedding a worker in another program.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace taskbench {

/// What taskbench-worker is started with (see workerProcessUsage()).
struct WorkerProcessOptions
{
    // Local workers (--connect): started by the scheduler's nanny.
    std::string connect; ///< the scheduler's unix socket
    int id = -1;         ///< worker id; remote workers get theirs from the scheduler
    int threads = 1;
    std::vector<std::string> plugins; ///< plugin libraries, by path
    std::string logLevel = "warn";
    int statusFd = -1; ///< shared page where each thread shows the task it runs
    int outputFd = -1; ///< file that captures what tasks print
    /// Testing only: announce another protocol version in the Hello (unset: this build's).
    std::optional<std::uint32_t> speakVersion;
    // Remote workers (--scheduler tcp://HOST:PORT): join over TCP with the cluster token.
    std::string scheduler;
    std::string tokenFile;
    std::string name;       ///< label shown by the scheduler
    std::string runtimeDir; ///< base of the plugin cache
    // Neither: --probe LIB... (try opening plugin libraries; see PluginLoader::setProbe) or
    // --help.
    std::vector<std::string> probe;
    bool help = false;
};

/// Parses taskbench-worker's arguments (argv[0] is skipped). On bad arguments returns nullopt
/// with a one-line reason in *error.
std::optional<WorkerProcessOptions>
parseWorkerProcessArguments(int argc, const char *const *argv, std::string *error);

/// The usage text (several lines, ending in a newline).
const char *workerProcessUsage();

/// Runs the worker until the scheduler lets it go (or, with --probe, tries the libraries and
/// ends; with --help, prints the usage); the return value is the process exit code
/// (0 on shutdown or a closed connection, 1 or 2 when it cannot connect or the handshake
/// fails). Takes over the process: redirects fd 1 and 2 to the task output capture, registers
/// the loggers, ignores SIGPIPE; it ends the process itself (_exit) once the loop has run.
int runWorkerProcess(WorkerProcessOptions options);

} // namespace taskbench
