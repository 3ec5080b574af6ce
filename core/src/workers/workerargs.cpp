// taskbench-worker's command line: parsing and checking it into WorkerProcessOptions, and the
// usage text. Kept apart from the loop so that a bad argument is a message before anything
// (logging, capture, sockets) is set up.
#include "wire/transport_p.h"

#include "taskbench/workerprocess.h"

#include <charconv>
#include <string_view>

namespace taskbench {

namespace {

bool parseInt(const char *s, long long &out)
{
    const std::string_view v(s);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && end == v.data() + v.size();
}

std::optional<WorkerProcessOptions> fail(std::string *error, std::string message)
{
    if (error)
        *error = std::move(message);
    return std::nullopt;
}

} // namespace

const char *workerProcessUsage()
{
    return "usage: taskbench-worker --connect <socket> --id N [--threads T] "
           "[--plugin <lib.so>]... [--log-level L] [--status-fd FD] [--output-fd FD]\n"
           "       (a local worker, started by the Taskbench scheduler)\n"
           "   or: taskbench-worker --scheduler tcp://HOST:PORT --token-file FILE "
           "[--threads T] [--name LABEL] [--runtime-dir DIR] [--log-level L]\n"
           "       (a remote worker; FILE holds the cluster token, mode 0600)\n"
           "   or: taskbench-worker --probe <lib.so>...\n"
           "       (opens each plugin library in turn, reporting on stdout how far it got: "
           "how a\n"
           "        Taskbench program tries a library before it opens it itself)\n";
}

std::optional<WorkerProcessOptions>
parseWorkerProcessArguments(int argc, const char *const *argv, std::string *error)
{
    WorkerProcessOptions o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        long long n = 0;
        if (arg == "--connect") {
            const char *v = value();
            if (!v)
                return fail(error, "--connect needs a socket path");
            o.connect = v;
        } else if (arg == "--id" || arg == "--threads" || arg == "--status-fd"
                   || arg == "--output-fd" || arg == "--speak-version") {
            const char *v = value();
            if (!v || !parseInt(v, n) || n < 0 || n > 1'000'000)
                return fail(error, arg + " needs a number");
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
                return fail(error, "--plugin needs a library path");
            o.plugins.push_back(v);
        } else if (arg == "--probe") {
            const char *v = value();
            if (!v)
                return fail(error, "--probe needs a library path");
            o.probe.push_back(v);
        } else if (arg == "--help" || arg == "-h") {
            o.help = true;
            return o;
        } else if (arg == "--log-level") {
            const char *v = value();
            if (!v)
                return fail(error, "--log-level needs a level");
            o.logLevel = v;
        } else if (arg == "--scheduler" || arg == "--token-file" || arg == "--name"
                   || arg == "--runtime-dir") {
            const char *v = value();
            if (!v || !*v)
                return fail(error, arg + " needs a value");
            (arg == "--scheduler"    ? o.scheduler
             : arg == "--token-file" ? o.tokenFile
             : arg == "--name"       ? o.name
                                     : o.runtimeDir)
                = v;
        } else {
            return fail(error, "unknown argument '" + arg + "'");
        }
    }
    if (!o.probe.empty()) {
        if (!o.connect.empty() || !o.scheduler.empty())
            return fail(error, "--probe runs alone (no --connect or --scheduler)");
        return o;
    }
    if (!o.scheduler.empty()) {
        std::string host, port;
        if (o.scheduler.rfind("tcp://", 0) != 0
            || !detail::splitHostPort(o.scheduler, &host, &port))
            return fail(error, "--scheduler takes tcp://HOST:PORT, got '" + o.scheduler + "'");
        if (o.tokenFile.empty())
            return fail(error, "--scheduler needs --token-file");
        if (!o.connect.empty())
            return fail(error, "--connect and --scheduler exclude each other");
        o.id = -1;
    } else if (o.connect.empty() || o.id < 0) {
        return fail(error, "--connect and --id are required (or --scheduler and --token-file)");
    }
    if (o.threads < 1)
        return fail(error, "--threads must be at least 1");
    return o;
}

} // namespace taskbench
