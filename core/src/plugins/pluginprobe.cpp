// The plugin probe (see plugins/pluginprobe_p.h): both halves, the parent that runs
// taskbench-worker --probe and reads how far it got, and the child that opens the libraries.
#include "plugins/pluginprobe_p.h"

#include "util/childprocess_p.h"
#include "util/fd_p.h"

#include "taskbench/functionregistry.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace taskbench::detail {

namespace {

/// Which file a path is now: a rebuilt library is another one and is probed again.
using FileIdentity = std::tuple<dev_t, ino_t, off_t, std::int64_t>;

std::optional<FileIdentity> identify(const std::string &path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return FileIdentity{st.st_dev,
                        st.st_ino,
                        st.st_size,
                        std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::mutex g_mutex;
std::set<FileIdentity> g_clean;     ///< opened cleanly by a probe (under g_mutex)
bool g_reportedUnavailable = false; ///< under g_mutex

/// How far one child got through its libraries.
struct ChildRun
{
    bool started = false;
    std::vector<bool> ended; ///< per library of this run
    int stuck = -1;          ///< the library it began and never ended
    bool timedOut = false;
    int status = 0;
    std::string printed; ///< the end of its stderr
};

std::string tailOf(int fd)
{
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size <= 0)
        return {};
    constexpr off_t kTail = 400;
    const off_t from = std::max<off_t>(0, st.st_size - kTail);
    std::string text(std::size_t(st.st_size - from), '\0');
    const ssize_t n = ::pread(fd, text.data(), text.size(), from);
    text.resize(n > 0 ? std::size_t(n) : 0);
    // One line for a refusal reason: "terminate called ... / what(): static init failed".
    std::string line;
    bool lineStart = true;
    for (char c : text) {
        if (c == '\n') {
            if (!line.empty() && !lineStart)
                line += " / ";
            lineStart = true;
        } else if (c != '\r' && !(lineStart && (c == ' ' || c == '\t'))) {
            line.push_back(c);
            lineStart = false;
        }
    }
    while (line.size() >= 3 && line.compare(line.size() - 3, 3, " / ") == 0)
        line.resize(line.size() - 3);
    return line;
}

ChildRun runChild(const std::string &program,
                  const std::vector<std::string> &paths,
                  std::chrono::milliseconds perLibrary)
{
    ChildRun run;
    run.ended.assign(paths.size(), false);
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0)
        return run;
    UniqueFd readEnd(pipeFds[0]), writeEnd(pipeFds[1]);
    UniqueFd errors(::memfd_create("taskbench-plugin-probe", MFD_CLOEXEC));

    std::vector<std::string> args = {program};
    for (const std::string &p : paths) {
        args.emplace_back("--probe");
        args.push_back(p);
    }
    std::vector<char *> argv = spawnArgv(args);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    // Its own process group: a Ctrl-C at the terminal must not look like the library's doing.
    initChildSpawnAttributes(attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), 1);
    if (errors.valid())
        posix_spawn_file_actions_adddup2(&actions, errors.get(), 2);
    else
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    writeEnd.reset();
    if (rc != 0)
        return run;
    run.started = true;

    // Lines "begin I" / "end I"; each library has perLibrary from its begin.
    std::string buffer;
    auto deadline = std::chrono::steady_clock::now() + perLibrary;
    while (true) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            run.timedOut = true;
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd p{readEnd.get(), POLLIN, 0};
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
        const int ready = ::poll(&p, 1, int(std::min<std::int64_t>(wait.count(), 60'000)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue; // the deadline check above decides
        char chunk[512];
        const ssize_t n = ::read(readEnd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // the child is gone (or closed its stdout)
        buffer.append(chunk, std::size_t(n));
        std::size_t eol;
        while ((eol = buffer.find('\n')) != std::string::npos) {
            const std::string_view line(buffer.data(), eol);
            const bool begin = line.starts_with("begin ");
            const bool end = line.starts_with("end ");
            std::size_t index = 0;
            const std::string_view number = line.substr(begin ? 6 : 4);
            if ((begin || end)
                && std::from_chars(number.data(), number.data() + number.size(), index).ec
                       == std::errc()
                && index < paths.size()) {
                if (begin) {
                    run.stuck = int(index);
                    deadline = std::chrono::steady_clock::now() + perLibrary;
                } else {
                    run.ended[index] = true;
                    run.stuck = -1;
                }
            }
            buffer.erase(0, eol + 1);
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.status = status;
    run.printed = tailOf(errors.get());
    return run;
}

} // namespace

std::vector<std::string> probePluginLoads(const std::vector<std::string> &paths,
                                          const ProbeOptions &options)
{
    std::vector<std::string> reasons(paths.size());
    std::vector<std::size_t> todo; // indexes into paths
    std::vector<std::optional<FileIdentity>> ids(paths.size());
    {
        std::lock_guard lock(g_mutex);
        for (std::size_t i = 0; i < paths.size(); ++i) {
            ids[i] = identify(paths[i]);
            if (ids[i] && !g_clean.count(*ids[i]))
                todo.push_back(i); // a file that cannot be stat'ed is refused by the loader
        }
    }
    if (todo.empty())
        return reasons;
    const std::string program
        = options.program.empty() ? defaultWorkerExecutable() : options.program;
    if (::access(program.c_str(), X_OK) != 0) {
        std::lock_guard lock(g_mutex);
        if (!g_reportedUnavailable)
            log::get("plugins")->info("no {} to try plugins in first ({}): libraries are "
                                      "opened in this process directly",
                                      program,
                                      std::strerror(errno));
        g_reportedUnavailable = true;
        return reasons;
    }

    std::size_t next = 0;
    while (next < todo.size()) {
        std::vector<std::string> batch;
        for (std::size_t k = next; k < todo.size(); ++k)
            batch.push_back(paths[todo[k]]);
        const ChildRun run = runChild(program, batch, options.perLibrary);
        if (!run.started) {
            log::get("plugins")->warn("cannot start {} to try plugins in first: libraries are "
                                      "opened in this process directly",
                                      program);
            return reasons;
        }
        std::size_t firstUnfinished = batch.size();
        {
            std::lock_guard lock(g_mutex);
            for (std::size_t k = 0; k < batch.size(); ++k) {
                if (run.ended[k])
                    g_clean.insert(*ids[todo[next + k]]);
                else if (firstUnfinished == batch.size())
                    firstUnfinished = k;
            }
        }
        if (firstUnfinished == batch.size())
            break; // every library opened cleanly
        if (run.stuck < 0 && !run.timedOut) {
            // It ended between libraries, or never began one: not a library's doing (the
            // program itself failed). Do not refuse anything on that account.
            log::get("plugins")->warn("{} ended while trying plugins ({}{}{}): libraries are "
                                      "opened in this process directly",
                                      program,
                                      describeExitStatus(run.status),
                                      run.printed.empty() ? "" : ": ",
                                      run.printed);
            return reasons;
        }
        const std::size_t culprit = std::size_t(run.stuck);
        std::string &reason = reasons[todo[next + culprit]];
        if (run.timedOut)
            reason = "opening the library did not finish within "
                     + (options.perLibrary.count() % 1000
                            ? std::to_string(options.perLibrary.count()) + " ms"
                            : std::to_string(options.perLibrary.count() / 1000) + " s")
                     + " (tried first in a separate process, which was killed)";
        else
            reason = "opening the library ends the process that opens it ("
                     + describeExitStatus(run.status) + (run.printed.empty() ? "" : ": ")
                     + run.printed + "; tried first in a separate process)";
        next += culprit + 1;
    }
    return reasons;
}

int runPluginProbe(const std::vector<std::string> &paths)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL); // a hung library must not outlive its asker
    log::setLevel("off");               // refusals are the parent's to report
    FunctionRegistry registry;
    PluginLoader loader(registry);
    loader.setProbe(false);
    // The report gets a descriptor of its own; what the libraries print goes to stderr, so
    // it can neither split a report line nor pass for one.
    const int report = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (report < 0 || ::dup2(2, 1) < 0)
        return 3;
    auto say = [report](const char *what, std::size_t i) {
        char line[48];
        const int n = std::snprintf(line, sizeof line, "%s %zu\n", what, i);
        if (n > 0 && ::write(report, line, std::size_t(n)) < 0)
            ::_exit(3);
    };
    for (std::size_t i = 0; i < paths.size(); ++i) {
        say("begin", i);
        loader.load(paths[i]);
        std::fflush(stdout);
        say("end", i);
    }
    // No static destructors of the libraries: the parent opens them for real.
    ::_exit(0);
}

} // namespace taskbench::detail
