// Small facts about child processes, shared by the worker nanny, the Slurm launcher and the
// plugin probe: where the sibling executables are, how a child is spawned, and how it ended,
// in words.
#pragma once

#include <string>
#include <vector>

#include <spawn.h>

namespace taskbench::detail {

/// The program `name` in the folder of the running binary (taskbench-worker next to
/// taskbench-cli), or `name` alone when that folder cannot be found.
std::string siblingExecutable(const char *name);

/// taskbench-worker next to the running binary.
inline std::string defaultWorkerExecutable()
{
    return siblingExecutable("taskbench-worker");
}

/// The argv of posix_spawn over `args` (which must outlive it), ending in a null pointer.
std::vector<char *> spawnArgv(std::vector<std::string> &args);

/// Initialises `attr` for a child of ours: no blocked signals, default dispositions, and its
/// own process group, so that a Ctrl-C meant for the front end does not hit it (workers end
/// with their parent through the parent-death signal; the plugin probe is short-lived).
/// The caller destroys it.
void initChildSpawnAttributes(posix_spawnattr_t &attr);

/// "SIGSEGV" (or "signal 99").
std::string signalName(int sig);

/// A waitpid() status: "killed by signal SIGSEGV", "exited with code 3".
std::string describeExitStatus(int status);

} // namespace taskbench::detail
