// Ctrl-C and SIGTERM for taskbench-cli: the handler only records the signal (a second one
// exits at once), the waiting loops poll interrupted(), and a watchdog bounds shutdown.
#pragma once

namespace taskbench::cli {

/// SIGINT and SIGTERM set the interrupted flag; a second signal exits with 128 + signo.
void installSignalHandlers(); ///< also SIGUSR1: see takeStackRequest()
bool interrupted();
/// SIGUSR1 asks for the stacks of the running tasks (printed by the waiting loop): true once
/// per request.
bool takeStackRequest();
/// 128 + the signal received.
int interruptedExitCode();

/// Shutting down waits for running tasks; a task that ignores cancellation must not turn
/// Ctrl-C into a hang, so the process leaves with `exitCode` after a grace period.
void startShutdownWatchdog(int exitCode);

} // namespace taskbench::cli
