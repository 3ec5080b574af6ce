// `kill -USR1 <taskbench-cli pid>` while a run waits: the native stack of every running task
// (Client::stackOf), printed to stderr. The run goes on.
#pragma once

#include "taskbench/client.h"

#include <vector>

namespace taskbench::cli {

/// Prints the stack of each of `futures` that is processing, or why there is none.
void printRunningStacks(Client &client, const std::vector<Future> &futures);

} // namespace taskbench::cli
