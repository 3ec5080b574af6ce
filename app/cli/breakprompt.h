// `taskbench-cli run GRAPH --break FUNC|TASK`: breakpoints set before the graph runs, and a
// small prompt whenever a task is held at one (inspect / continue / step / abort). It reads
// the user's answers, so it needs a terminal on standard input.
#pragma once

#include "taskbench/client.h"

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace taskbench::cli {

/// Throws InputError unless standard input is a terminal.
void requireTerminalForBreak();

/// One breakpoint per target: a function's qualified name, a task of the graph by name, or a
/// key. Throws InputError for a target that is none of these.
void addBreakpoints(Client &client,
                    const std::vector<std::string> &targets,
                    const std::map<std::string, Future> &tasks);

/// Waits for `futures`, prompting on `out` and reading `in` whenever a task is held. Returns
/// false when the user aborted (or input ended): the unfinished futures are then cancelled.
bool promptAtBreakpoints(Client &client,
                         const std::vector<Future> &futures,
                         std::istream &in,
                         std::ostream &out);

} // namespace taskbench::cli
