// Small facts about child processes (see util/childprocess_p.h).
#include "util/childprocess_p.h"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <sys/wait.h>

namespace taskbench::detail {

std::string siblingExecutable(const char *name)
{
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec || !exe.has_parent_path())
        return name;
    return (exe.parent_path() / name).string();
}

std::vector<char *> spawnArgv(std::vector<std::string> &args)
{
    std::vector<char *> argv;
    argv.reserve(args.size() + 1);
    for (std::string &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    return argv;
}

void initChildSpawnAttributes(posix_spawnattr_t &attr)
{
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
}

std::string signalName(int sig)
{
    if (const char *abbrev = ::sigabbrev_np(sig))
        return std::string("SIG") + abbrev;
    return "signal " + std::to_string(sig);
}

std::string describeExitStatus(int status)
{
    if (WIFSIGNALED(status))
        return "killed by signal " + signalName(WTERMSIG(status));
    if (WIFEXITED(status))
        return "exited with code " + std::to_string(WEXITSTATUS(status));
    return "ended with status " + std::to_string(status);
}

} // namespace taskbench::detail
