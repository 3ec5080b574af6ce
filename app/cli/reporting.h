// How taskbench-cli prints: the output futures of a work command (a readable line each, or
// one JSON object per line with --json; errors on stderr after every result), the waiting
// before it (Ctrl-C and --timeout cancel), and the small text helpers every command's output
// shares. Results go to stdout, logs and errors to stderr.
#pragma once

#include "commandline.h"
#include "commands.h"

#include "taskbench/client.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace taskbench::cli {

/// One future whose result is printed.
struct Output
{
    std::string name; ///< graph task name (run), empty otherwise
    Future future;
};

/// Waits for the outputs (and `others`, which they may depend on), prints them, runs
/// `summary` (extra lines on stderr), finishes the recording, closes the client and returns
/// the exit code: 0 all finished, 1 a task failed or --timeout struck, 128 + signal when
/// interrupted. The recording ends first: what it reads from the engine (what a task
/// printed, say) is gone once the client is closed.
int finish(const CommandContext &ctx,
           const std::vector<Output> &outputs,
           const std::vector<Future> &others,
           const std::function<void()> &summary = {});

/// Every output of `futures`, unnamed, in order.
std::vector<Output> outputsOf(const std::vector<Future> &futures);

std::string join(const std::vector<std::string> &items, const char *sep);
/// "1 task", "2 tasks".
std::string plural(std::int64_t n, const char *word);
/// Word-wraps text to `width` columns, each line starting with `indent`; keeps the text's
/// own line breaks.
std::string wrap(const std::string &text, const std::string &indent, std::size_t width);
/// "2026-01-31 12:00:00" in local time, from microseconds since the epoch.
std::string localTime(std::int64_t us);
/// "1.234 s" from microseconds.
std::string seconds(std::int64_t us);

} // namespace taskbench::cli
