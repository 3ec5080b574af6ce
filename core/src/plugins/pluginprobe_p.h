// The plugin probe: a library is loaded once in a short-lived child process before this
// process opens it. Opening a library runs its code (static initialisers, the entry point,
// the manifest), and what goes wrong there cannot be caught in-process: a truncated file
// faults inside dlopen (SIGBUS), a throwing static initialiser terminates the process or
// leaves the loader's lock held (every later dlopen hangs), a constructor may call exit().
// In the child (taskbench-worker --probe LIB...) such a library only ends the child, and the
// loader refuses it with what happened. A library that loaded cleanly is remembered (by
// device, inode, size and modification time) for the rest of the process.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace taskbench::detail {

struct ProbeOptions
{
    std::string program;                          ///< empty: taskbench-worker next to this binary
    std::chrono::milliseconds perLibrary{20'000}; ///< a library that takes longer is refused
};

/// For each path, why it must not be opened in this process ("" when it may, or when it
/// was not probed because the probe program is missing, which is logged once). Libraries
/// probed cleanly before in this process are not probed again.
std::vector<std::string> probePluginLoads(const std::vector<std::string> &paths,
                                          const ProbeOptions &options = {});

/// The child's half (taskbench-worker --probe): opens each library in turn with a
/// PluginLoader, writing "begin I" and "end I" lines to fd 1 around each; returns the exit
/// code. Never returns normally from a library that kills it, which is the point.
int runPluginProbe(const std::vector<std::string> &paths);

} // namespace taskbench::detail
