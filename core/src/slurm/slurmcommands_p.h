// Talking to Slurm through its command line tools (sbatch, squeue, scancel), as a user at a
// site does: no library, no daemon connection. Parsing is kept apart from running so that it
// is plain functions of text.
#pragma once

#include "taskbench/slurmcluster.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace taskbench::detail {

struct CommandResult
{
    bool started = false; ///< false: the program could not be run (not installed?)
    int exitCode = -1;
    std::string out;
    std::string err;
    /// "sbatch: exit code 1: sbatch: error: invalid partition" (for error messages).
    std::string describe(const std::string &program) const;
};

/// Runs program with args (no shell), feeding `input` to its stdin; kills it past `timeout`.
CommandResult runCommand(const std::string &program,
                         const std::vector<std::string> &args,
                         const std::string &input = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// The job id in `sbatch --parsable` output ("42" or "42;cluster"); nullopt if none.
std::optional<std::string> parseSbatchJobId(const std::string &out);

struct SqueueRow
{
    std::string id;
    std::string state; ///< squeue %T: PENDING, RUNNING, COMPLETING, CANCELLED, TIMEOUT...
    std::string node;
    std::string reason;
};
/// Lines of `squeue -h -t all -o '%i|%T|%N|%r'`; malformed lines are skipped.
std::map<std::string, SqueueRow> parseSqueue(const std::string &out);

/// Our three states from Slurm's (unknown names count as running: Slurm adds states).
SlurmJobState jobStateFromSlurm(const std::string &slurmState);

/// Why a job ended, in words: "job 42 cancelled", "job 42 reached its walltime". While a
/// job is COMPLETING only squeue's reason tells (TimeLimit, NodeDown).
std::string
endCause(const std::string &jobId, const std::string &slurmState, const std::string &reason = {});

} // namespace taskbench::detail
