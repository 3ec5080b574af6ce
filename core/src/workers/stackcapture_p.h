// The native stack of a thread in another process, symbolised by eu-stack (elfutils): what
// Client::stackOf shows for a task running on a process worker, and what a task killed by
// its timeout keeps in its error. A well-kept unwinder from Debian rather than our own; it
// is needed only for this, and its absence is a clear message.
#pragma once

#include <optional>
#include <string>

namespace taskbench::detail {

/// Thread `tid` of process `pid` (tid 0: every thread), as eu-stack prints it. nullopt and
/// *error when eu-stack is not installed, cannot attach (ptrace not permitted) or fails.
/// Blocks for as long as eu-stack runs (typically 0.1-1 s): not on the scheduler thread.
std::optional<std::string> captureStack(long pid, long tid, std::string *error);

/// The frames of thread `tid` in eu-stack's output ("TID <tid>:" up to the next "TID");
/// empty if it is not there.
std::string threadBlock(const std::string &euStackOutput, long tid);

} // namespace taskbench::detail
