// Small facts about child processes, shared by the worker nanny, the Slurm launcher and the
// plugin probe: where the sibling executables are, and how a child ended, in words.
#pragma once

#include <string>

namespace taskbench::detail {

/// The program `name` in the folder of the running binary (taskbench-worker next to
/// taskbench-cli), or `name` alone when that folder cannot be found.
std::string siblingExecutable(const char *name);

/// taskbench-worker next to the running binary.
inline std::string defaultWorkerExecutable()
{
    return siblingExecutable("taskbench-worker");
}

/// "SIGSEGV" (or "signal 99").
std::string signalName(int sig);

/// A waitpid() status: "killed by signal SIGSEGV", "exited with code 3".
std::string describeExitStatus(int status);

} // namespace taskbench::detail
