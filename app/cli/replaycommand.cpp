// `taskbench-cli replay KEY [--session ID] [--gdb]`: one recorded task run again in the
// foreground, so that a plugin author can watch the exact failing call. The call is planned
// by Taskbench::History (taskbench/history/replaycall.h: function, plugin file checked by
// SHA-256, arguments with their dependencies' recorded results) and made in a forked child
// that loads only that plugin: a crash takes down the child, and the parent reports the
// signal and exits 128 + its number. With --gdb, this program runs itself under
// `gdb -batch` with a breakpoint at the plugin function; that run makes the call in-process
// (TASKBENCH_REPLAY_IN_PROCESS) so that gdb needs no fork following.
#include "commands.h"
#include "recording.h"

#include "taskbench/history/replaycall.h"
#include "taskbench/pluginloader.h"
#include "taskbench/sdk.h"
#include "taskbench/valuecodec.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <sys/wait.h>
#include <unistd.h>

/// Called once the plugin is loaded, right before the call: `replay --gdb` stops here to set
/// its breakpoint in the plugin only (a name like "add" is also a function of this program).
extern "C" __attribute__((noinline, visibility("default"))) void taskbench_replay_call_ready()
{
    asm volatile("" ::: "memory");
}

namespace taskbench::cli {

namespace {

constexpr const char *kInProcessEnv = "TASKBENCH_REPLAY_IN_PROCESS";

/// What the plugin sees: the recorded key and the attempt after the recorded ones; logs and
/// progress go to stderr.
class ReplayContext final : public sdk::TaskContext
{
public:
    explicit ReplayContext(const history::ReplayCall &call)
        : m_call(call)
    {}
    void progress(double fraction, std::string_view message) override
    {
        std::cerr << "progress: " << fraction * 100.0 << "% " << message << "\n";
    }
    void log(std::string_view line) override { std::cerr << "log: " << line << "\n"; }
    int attempt() const override { return m_call.attempts + 1; }
    std::string key() const override { return m_call.key; }

private:
    const history::ReplayCall &m_call;
};

/// Loads the plugin and makes the call here; the exit code of the outcome.
int callHere(const history::ReplayCall &call)
{
    FunctionRegistry registry;
    PluginLoader loader(registry);
    const PluginScanReport report = loader.load(call.pluginPath);
    if (!report.refused.empty()) {
        std::cerr << "taskbench-cli: replay: cannot load " << call.pluginPath << ": "
                  << report.refused.front().reason << "\n";
        return kExitTaskFailed;
    }
    const FunctionPtr fn = registry.find(call.function);
    if (!fn) {
        std::cerr << "taskbench-cli: replay: " << call.pluginPath << " has no function "
                  << call.function << " any more\n";
        return kExitTaskFailed;
    }
    ReplayContext ctx(call);
    taskbench_replay_call_ready();
    try {
        const Value result = fn->invoke(call.args, ctx);
        std::cout << "finished  " << result.typeName() << "  " << repr(result) << "\n";
        return kExitOk;
    } catch (const sdk::TaskException &e) {
        std::cout << "error  " << e.type() << ": " << e.what() << "\n";
    } catch (const std::exception &e) {
        std::cout << "error  " << e.what() << "\n";
    } catch (...) {
        std::cout << "error  non-standard exception\n";
    }
    return kExitTaskFailed;
}

/// Forks, calls in the child, reports how the child ended.
int callInChild(const history::ReplayCall &call)
{
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::cerr << "taskbench-cli: replay: fork failed: " << std::strerror(errno) << "\n";
        return kExitTaskFailed;
    }
    if (pid == 0) {
        const int code = callHere(call);
        std::cout.flush();
        std::cerr.flush();
        ::_exit(code); // no static destructors: the plugin may have left threads running
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        std::cout << "killed  by signal " << sig << " (SIG" << (abbrev ? abbrev : "?") << ": "
                  << strsignal(sig) << ")\n";
        std::cerr << "taskbench-cli: replay: the task killed its process with SIG"
                  << (abbrev ? abbrev : "?") << " (" << strsignal(sig) << ")"
                  << (call.recordedStatus == "error" ? "; recorded: " + call.recordedError
                                                     : std::string())
                  << "\n";
        return 128 + sig;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : kExitTaskFailed;
}

/// The executable gdb is found as on PATH; empty if none.
std::string findOnPath(const std::string &name)
{
    const char *path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t stop = dirs.find(':', start);
        if (stop == std::string::npos)
            stop = dirs.size();
        const std::filesystem::path candidate
            = std::filesystem::path(dirs.substr(start, stop - start)) / name;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate.string();
        start = stop + 1;
    }
    return {};
}

/// A Python string literal of text (for gdb's python command).
std::string pythonString(const std::string &text)
{
    std::string out = "'";
    for (const char c : text) {
        if (c == '\\' || c == '\'')
            out += '\\';
        out += c;
    }
    return out + "'";
}

/// Replaces this process with gdb running this command again in-process.
int underGdb(const history::ReplayCall &call, const Options &opts)
{
    const std::string gdb = findOnPath("gdb");
    if (gdb.empty()) {
        std::cerr << "taskbench-cli: replay --gdb: gdb is not installed (Debian: apt-get "
                     "install gdb)\n";
        return kExitUsage;
    }
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    // The plugin function's own name: "faults.segfault" -> "segfault"; gdb matches it in
    // any namespace (set at taskbench_replay_call_ready, when the plugin is loaded).
    const std::string name = call.function.substr(call.function.find('.') + 1);
    // Only the breakpoint's locations in the plugin file stay enabled (gdb 13's
    // BreakpointLocation; with an older gdb every function of that name stops).
    const std::string onlyInPlugin
        = "python import os; p = os.path.realpath(" + pythonString(call.pluginPath)
          + "); ls = [l for b in gdb.breakpoints() for l in b.locations]; [setattr(l, "
            "'enabled', os.path.realpath(gdb.solib_name(l.address) or '') == p) for l in ls]; "
            "any(l.enabled for l in ls) or print('taskbench-cli: replay --gdb: no function "
          + name + " in ' + p + ' (its C++ name may differ); running without a breakpoint')";
    std::vector<std::string> args = {gdb,
                                     "-batch",
                                     "-nx",
                                     "-ex",
                                     "set confirm off",
                                     // Stop once the plugin is loaded, then break in it.
                                     "-ex",
                                     "break taskbench_replay_call_ready",
                                     "-ex",
                                     "run",
                                     "-ex",
                                     "delete",
                                     "-ex",
                                     "break " + name,
                                     "-ex",
                                     onlyInPlugin,
                                     "-ex",
                                     "continue",
                                     "-ex",
                                     "bt",
                                     // Past the breakpoint, on to the fault or the end
                                     // (a recursive function would stop at it again).
                                     "-ex",
                                     "delete",
                                     "-ex",
                                     "continue",
                                     "-ex",
                                     "bt",
                                     // The replay's outcome as without --gdb: the call's
                                     // exit status, or 128 + N when signal N stopped it
                                     // (gdb -batch would exit 0 after a successful bt).
                                     "-ex",
                                     "quit $_isvoid($_exitcode) ? ($_isvoid($_siginfo) ? 1 : "
                                     "128 + $_siginfo.si_signo) : $_exitcode",
                                     "--args",
                                     self,
                                     "replay",
                                     call.key,
                                     "--session",
                                     std::to_string(call.session),
                                     "--db",
                                     historyPath(opts)};
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    ::setenv(kInProcessEnv, "1", 1);
    std::cout.flush();
    std::cerr.flush();
    ::execv(gdb.c_str(), argv.data());
    std::cerr << "taskbench-cli: replay --gdb: cannot run " << gdb << ": " << std::strerror(errno)
              << "\n";
    return kExitTaskFailed;
}

} // namespace

int commandReplay(CommandContext &ctx)
{
    const Options &opts = ctx.opts;
    history::HistoryStore store;
    openHistory(store, opts);
    const std::string &key = opts.positional.front();
    std::string error;
    const std::optional<history::ReplayCall> call
        = history::planReplayCall(store, key, opts.session, &error);
    if (!call)
        throw InputError("replay: " + error);
    if (opts.gdb)
        return underGdb(*call, opts);
    if (std::getenv(kInProcessEnv))
        return callHere(*call);
    std::cerr << "taskbench-cli: replaying " << call->key << " (" << call->function << ", session "
              << call->session << ", recorded: " << call->recordedStatus << ") from "
              << call->pluginPath << "\n";
    return callInChild(*call);
}

} // namespace taskbench::cli
