// Parsing of taskbench-cli's command line: global options, subcommands with their own
// options, help texts, and the input forms of `map` (--range A:B[:S], --inputs FILE.jsonl).
//
// Everything here is pure (no engine, no plugins) so that bad input is rejected before a
// cluster starts; every rejection is a UsageError or InputError, which main() turns into
// exit code 2 with the message on stderr.
#pragma once

#include "taskbench/value.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace taskbench::cli {

inline constexpr int kExitOk = 0;            ///< every output future finished
inline constexpr int kExitTaskFailed = 1;    ///< a task errored, was cancelled or timed out
inline constexpr int kExitUsage = 2;         ///< usage error or bad input
inline constexpr int kExitOutputLost = 3;    ///< standard output was closed or a write failed
inline constexpr int kExitInterrupted = 130; ///< SIGINT (128 + 2)

/// The most inputs one `map` accepts (a guard against `--range 0:1e12` exhausting memory).
inline constexpr std::int64_t kMaxMapInputs = 10'000'000;

/// The command line itself is wrong (unknown option, missing argument, bad number). The
/// message is followed by a hint to read --help.
class UsageError : public std::runtime_error
{
public:
    UsageError(const std::string &message, std::string command = {})
        : std::runtime_error(message)
        , m_command(std::move(command))
    {}
    const std::string &command() const { return m_command; }

private:
    std::string m_command;
};

/// The command line is well formed but its input is not (unknown function, unreadable or
/// malformed file, argument of the wrong type, cycle...).
class InputError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct Options
{
    std::string command; ///< "plugins", "submit", "map", "run", "help" (empty: none given)
    std::vector<std::string> positional;

    // Global options.
    std::vector<std::string> pluginDirs;
    int workers = 0; ///< 0: the engine's default (one per core)
    int threadsPerWorker = 1;
    bool processes = true; ///< process workers by default: a crashing plugin cannot end the run
    std::string listen;    ///< remote workers: HOST:PORT to listen on (empty: none)
    std::string tokenFile; ///< remote workers: the cluster token file
    bool localWorkers = true;
    std::optional<bool> tls; ///< remote workers: nullopt = on unless loopback
    bool json = false;
    std::string logLevel = "warn";
    std::optional<double> timeoutSeconds;
    bool help = false;
    bool version = false;

    // Slurm cluster (--cluster slurm): every worker a batch job (see SlurmOptions).
    std::string cluster = "local"; ///< "local" or "slurm"
    int jobs = 1;
    int cores = 1;
    std::string memory = "2G";
    std::string partition;
    std::string walltime = "01:00:00";
    std::string account;
    std::vector<std::string> jobExtra;
    std::vector<std::string> jobPrologue;
    std::optional<int> adaptMin;
    std::optional<int> adaptMax;
    bool printJobScript = false;

    // submit / map / run.
    int retries = 0;
    bool pure = true;
    std::string key;
    int priority = 0;
    std::vector<std::pair<std::string, std::string>> kwargs; ///< NAME, raw VALUE text
    std::vector<std::string> breaks; ///< run --break: functions, graph task names or keys

    // map.
    std::optional<std::string> range;
    std::optional<std::string> inputs;
    std::optional<std::string> reduce;

    // History: every submit/map/run is recorded unless --no-history; the `history` command.
    bool noHistory = false;
    std::string historyDb;     ///< --db PATH; empty: the default database
    std::string historyAction; ///< list (default), tasks, export, delete, retention, rerun, compare
    std::int64_t session = 0;  ///< --session ID (history; replay: 0 = the newest with KEY)
    bool gdb = false;          ///< replay --gdb
    std::string search;        ///< --search: sessions matching the text
    std::string filterFunction;
    std::string filterKey;
    std::string filterStatus;
    std::string filterError;
    std::int64_t limit = -1;
    std::string exportFormat; ///< perfetto, csv, json
    std::string output = "-"; ///< -o / --output
    std::optional<int> keepSessions;
    std::optional<int> keepDays;
    bool failedOnly = false;
    std::vector<std::uint64_t> taskIds;
    std::int64_t compare[2] = {0, 0}; ///< history compare A B
    bool csv = false;                 ///< --csv (compare)
    bool allTasks = false;            ///< --all (compare)

    // The result cache (in the history database): on unless --no-cache; the `cache` command.
    bool noCache = false;
    int cacheMaxMb = 256;
};

/// Parses argv[1..]. Throws UsageError.
Options parseCommandLine(const std::vector<std::string> &args);

/// The help text of a command, or the general help when command is empty.
std::string helpText(const std::string &command);

/// "A:B" or "A:B:S" (Python's range: B excluded, S may be negative, never 0). Throws
/// InputError for anything else or more than kMaxMapInputs values.
std::vector<std::int64_t> parseRange(const std::string &text);

/// One JSON value per non-blank line of a file ("-": standard input). Throws InputError
/// naming the file and line.
std::vector<Value> readInputs(const std::string &path);

/// The whole content of a file. Throws InputError with the system's reason.
std::string readFile(const std::string &path, const char *what);

} // namespace taskbench::cli
