// Hand-rolled parsing of taskbench-cli's command line. QCommandLineParser has no notion of
// subcommands with their own options, and it would read JSON arguments such as `-1` as
// options; a small table of options and commands keeps both the parsing and the help texts
// in one place.
#include "commandline.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>

namespace taskbench::cli {

namespace {

struct CommandSpec
{
    const char *name;
    const char *synopsis;
    const char *summary;
    const char *description;
    int minPositional;
    int maxPositional; ///< -1: unlimited
};

const CommandSpec kCommands[] = {
    {"plugins",
     "plugins",
     "List plugins and their functions (signature, doc); refused libraries",
     "Lists every loaded plugin with its version, path and functions (signature and doc\n"
     "string), then every library that was refused, with the reason.\n",
     0,
     0},
    {"submit",
     "submit FUNC [ARG...]",
     "Run one call of FUNC and print its result",
     "Submits one call of FUNC (\"plugin.function\") and waits for it. Each ARG is a JSON\n"
     "literal (1, 2.5, true, null, \"text\", [1, 2], {\"a\": 1}); anything that is not valid\n"
     "JSON is taken as a string, so `submit bench.print world` passes \"world\".\n"
     "Bytes are written {\"$bytes\": \"<base64>\"}, e.g. `submit faults.ok\n"
     "'{\"$bytes\": \"aGVsbG8=\"}'` passes b'hello'. --kwarg NAME=VALUE passes an argument\n"
     "by parameter name (VALUE read the same way); parameters with a default may be left out.\n"
     "Put `--` before arguments that start with `--`.\n",
     1,
     -1},
    {"map",
     "map FUNC (--range A:B[:S] | --inputs FILE.jsonl) [--reduce FUNC2]",
     "Run FUNC once per input, optionally reduce the results",
     "Submits one task of FUNC per input and waits for all of them.\n"
     "  --range A:B[:S]   the integers A, A+S, ... before B (Python's range; S defaults to 1)\n"
     "  --inputs FILE     one JSON value per line (`-` reads standard input); when FUNC needs\n"
     "                    two or more arguments, each line is the JSON list of its arguments\n"
     "With --reduce FUNC2, one more task FUNC2([future, ...]) receives the list of all mapped\n"
     "futures as its single argument (like client.submit(sum, futures) in Dask); only that\n"
     "task's result is printed. With --key K the tasks are keyed K-0, K-1, ... (and K for the\n"
     "reduction).\n",
     1,
     1},
    {"run",
     "run GRAPH.json",
     "Compute a graph of named tasks",
     "Computes the task graph in GRAPH.json (`-` reads standard input):\n"
     "  {\"tasks\": {\"x\": {\"function\": \"tutorial.inc\", \"args\": [1]},\n"
     "             \"y\": {\"function\": \"tutorial.inc\", \"args\": [2]},\n"
     "             \"z\": {\"function\": \"tutorial.add\", \"args\": [{\"$ref\": \"x\"}, "
     "{\"$ref\": "
     "\"y\"}]}},\n"
     "   \"outputs\": [\"z\"]}\n"
     "{\"$ref\": \"name\"} may be nested anywhere in lists and maps; a task may also have\n"
     "\"kwargs\" (a map) and \"retries\". Without \"outputs\" every task is printed.\n",
     1,
     1},
    {"history",
     "history [list|tasks|export|delete|retention|rerun|compare A B|critical-path]",
     "List, search, export, delete and re-run recorded sessions",
     "Every submit, map and run is recorded (unless --no-history) in the history database\n"
     "(--db PATH; default $TASKBENCH_HISTORY_DB or <user data folder>/taskbench/history.sqlite).\n"
     "  list       sessions, newest first: date, status, duration, tasks by status, plugins\n"
     "             (--search TEXT: sessions whose title, functions, keys or errors match)\n"
     "  tasks      the tasks of --session ID (or of every session), filtered by --function,\n"
     "             --task-key, --status, --error\n"
     "  export     --session ID --format perfetto|csv|json [-o FILE]: a Chrome trace /\n"
     "             Perfetto JSON (one track per worker thread, one slice per attempt), a CSV of\n"
     "             the tasks, or the whole session as JSON\n"
     "  delete     --session ID\n"
     "  retention  --keep-sessions N and/or --keep-days D: delete older sessions now\n"
     "  rerun      --session ID [--failed | --task ID...]: run recorded tasks again (with\n"
     "             what they depend on) in a new cluster\n"
     "  compare    A B [--json | --csv] [--all]: sessions A and B task by task (matched by\n"
     "             key, else by function and map position): status, duration and ratio,\n"
     "             result equal/different, errors; median ratio, slowest, newly failing, fixed\n"
     "  critical-path --session ID [--json]: the chain of tasks that determined the wall\n"
     "             time (each waited for the one before it), with each one's share\n"
     "A session whose process died before it finished is listed as \"interrupted\".\n",
     0,
     3},
    {"replay",
     "replay KEY [--session ID] [--gdb]",
     "Run one recorded task again, in the foreground (optionally under gdb)",
     "Takes task KEY from the history (the newest session that has it, or --session ID):\n"
     "its function, its arguments and its plugin file, which must still have the recorded\n"
     "SHA-256. Runs it once in a fresh child process, prints the result or the error, and\n"
     "exits with its outcome: 0 finished, 1 failed, 128+N killed by signal N (SIGSEGV: 139).\n"
     "--gdb runs it under `gdb -batch` with a breakpoint at the plugin function and prints\n"
     "the backtrace there and where it stops next (gdb must be installed).\n",
     1,
     1},
    {"cache",
     "cache stats|clear",
     "Show or clear the result cache of pure tasks",
     "Pure tasks (the default) are served from the result cache when the same function, from\n"
     "a plugin file with the same SHA-256, was called with the same arguments and finished in\n"
     "an earlier run; the cache lives in the history database (--db PATH). --no-cache turns it\n"
     "off for a run; --cache-max-mb N bounds it (default 256, least recently used go first).\n"
     "  stats   entries, size and the database\n"
     "  clear   delete every entry\n",
     1,
     1},
    {"help", "help [COMMAND]", "Show help for a command", "Shows the help of COMMAND.\n", 0, 1},
};

struct OptionSpec
{
    const char *name;
    const char *valueName; ///< nullptr: a flag
    const char *help;
    std::vector<std::string> commands; ///< empty: global (valid with every command)
};

const std::vector<OptionSpec> &optionTable()
{
    static const std::vector<OptionSpec> table = {
        {"--plugins", "DIR", "Also load plugins from DIR (repeatable)", {}},
        {"--workers", "N", "Number of workers (default: one per core)", {}},
        {"--threads-per-worker", "N", "Task slots per worker (default: 1)", {}},
        {"--threads",
         nullptr,
         "Thread workers: faster start, but a crashing task ends the whole process",
         {}},
        {"--processes", nullptr, "Process workers (the default; a crash restarts one worker)", {}},
        {"--listen", "HOST:PORT", "Let remote workers join over TCP (port 0: any free one)", {}},
        {"--token-file", "FILE", "Cluster token remote workers must know (created if missing)", {}},
        {"--no-local-workers", nullptr, "Start no local workers: wait for remote ones", {}},
        {"--tls", "MODE", "Remote workers: on, off or auto (default: on unless loopback)", {}},
        {"--json", nullptr, "Print one JSON object per line", {}},
        {"--log-level",
         "LEVEL",
         "trace, debug, info, warn (default), error, critical, off; logs go to stderr",
         {}},
        {"--timeout", "SECONDS", "Cancel what is unfinished after SECONDS and exit 1", {}},
        {"--cluster", "KIND", "local (default) or slurm: every worker a Slurm batch job", {}},
        {"--jobs", "N", "slurm: worker jobs to keep (default 1)", {}},
        {"--cores", "C", "slurm: CPUs per job = worker threads (default 1)", {}},
        {"--memory", "M", "slurm: memory per job, e.g. 4G (default 2G)", {}},
        {"--partition", "P", "slurm: partition (default: the site's)", {}},
        {"--walltime", "T", "slurm: time limit per job (default 01:00:00)", {}},
        {"--account", "A", "slurm: account to charge", {}},
        {"--job-extra", "OPT", "slurm: one more #SBATCH option, e.g. --qos=high (repeatable)", {}},
        {"--job-prologue", "LINE", "slurm: shell line before the worker starts (repeatable)", {}},
        {"--adapt-min", "N", "slurm: adaptive, at least N jobs", {}},
        {"--adapt-max", "N", "slurm: adaptive, at most N jobs (one per C queued tasks)", {}},
        {"--print-job-script", nullptr, "slurm: print the job script and exit", {}},
        {"--help", nullptr, "Show help (also -h)", {}},
        {"--version", nullptr, "Show the version", {}},
        {"--retries", "N", "Re-run a failing task up to N times", {"submit", "map", "run"}},
        {"--no-pure", nullptr, "Random keys: never share a result", {"submit", "map"}},
        {"--key", "K", "Explicit key (map: prefix K-0, K-1, ...)", {"submit", "map"}},
        {"--priority", "N", "Higher runs first (default 0)", {"submit", "map", "run"}},
        {"--break",
         "FUNC|TASK",
         "Hold matching tasks before they start and prompt (repeatable; needs a terminal)",
         {"run"}},
        {"--kwarg", "NAME=VALUE", "Argument by parameter name (repeatable)", {"submit", "map"}},
        {"--range", "A:B[:S]", "Map over A, A+S, ... before B", {"map"}},
        {"--inputs", "FILE", "Map over the JSON values of FILE's lines", {"map"}},
        {"--reduce", "FUNC", "Submit FUNC([all mapped futures]) and print its result", {"map"}},
        {"--no-history", nullptr, "Do not record this run in the history database", {}},
        {"--db", "PATH", "History database (default: the user data folder)", {}},
        {"--no-cache", nullptr, "Compute every task: do not use the result cache", {}},
        {"--cache-max-mb", "N", "Bound the result cache to N MiB (default 256)", {}},
        {"--session", "ID", "The recorded session", {"history", "replay"}},
        {"--gdb", nullptr, "replay: under gdb, stopping at the plugin function", {"replay"}},
        {"--search", "TEXT", "list: sessions whose title or tasks match TEXT", {"history"}},
        {"--function", "TEXT", "tasks: function contains TEXT", {"history"}},
        {"--task-key", "TEXT", "tasks: key contains TEXT", {"history"}},
        {"--status",
         "S",
         "tasks: status is S (finished, error, cancelled, lost, pending, processing)",
         {"history"}},
        {"--error", "TEXT", "tasks: error type, message or traceback contains TEXT", {"history"}},
        {"--limit", "N", "list, tasks: at most N rows", {"history"}},
        {"--format", "F", "export: perfetto, csv or json", {"history"}},
        {"--output",
         "FILE",
         "export: write to FILE (also -o; default: standard output)",
         {"history"}},
        {"--keep-sessions", "N", "retention: keep the newest N sessions", {"history"}},
        {"--keep-days", "D", "retention: keep sessions younger than D days", {"history"}},
        {"--failed", nullptr, "rerun: every failed task of the session", {"history"}},
        {"--task", "ID", "rerun: this task (repeatable)", {"history"}},
        {"--csv", nullptr, "compare: print the comparison as CSV", {"history"}},
        {"--all", nullptr, "compare: list every task, not only the summary", {"history"}},
    };
    return table;
}

const CommandSpec *findCommand(const std::string &name)
{
    for (const CommandSpec &c : kCommands)
        if (name == c.name)
            return &c;
    return nullptr;
}

const OptionSpec *findOption(const std::string &name)
{
    for (const OptionSpec &o : optionTable())
        if (name == o.name)
            return &o;
    return nullptr;
}

bool optionAllowed(const OptionSpec &o, const std::string &command)
{
    return o.commands.empty()
           || std::find(o.commands.begin(), o.commands.end(), command) != o.commands.end();
}

int parseInt(const std::string &option,
             const std::string &text,
             int min,
             int max,
             const std::string &command)
{
    int value = 0;
    const char *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || value < min || value > max)
        throw UsageError(option + ": expected an integer from " + std::to_string(min) + " to "
                             + std::to_string(max) + ", got '" + text + "'",
                         command);
    return value;
}

bool parseInt64(const std::string &text, std::int64_t &out)
{
    const char *begin = text.data();
    const char *end = begin + text.size();
    if (begin != end && *begin == '+')
        ++begin;
    const auto [ptr, ec] = std::from_chars(begin, end, out);
    return ec == std::errc() && ptr == end && begin != end;
}

std::string optionsHelp(const std::string &command)
{
    std::ostringstream out;
    for (const OptionSpec &o : optionTable()) {
        const bool global = o.commands.empty();
        if (command.empty() ? !global : (global || !optionAllowed(o, command)))
            continue;
        std::string left = std::string("  ") + o.name;
        if (o.valueName)
            left += std::string(" ") + o.valueName;
        out << left;
        if (left.size() < 28)
            out << std::string(28 - left.size(), ' ');
        else
            out << "\n" << std::string(28, ' ');
        out << o.help << "\n";
    }
    return out.str();
}

const char *kExitStatusHelp
    = "Exit status: 0 all tasks finished, 1 a task failed (errors on stderr),\n"
      "2 usage error or bad input, 130 interrupted (Ctrl-C cancels the "
      "tasks).\n";

} // namespace

Options parseCommandLine(const std::vector<std::string> &args)
{
    Options o;
    // Options may appear before or after the command; which command they belong to is only
    // known at the end, so remember them and check them afterwards.
    std::vector<const OptionSpec *> seen;
    bool onlyPositional = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        const bool isOption
            = !onlyPositional && arg.size() > 1 && arg[0] == '-'
              && (arg[1] == '-' || std::isalpha(static_cast<unsigned char>(arg[1])));
        if (!onlyPositional && arg == "--") {
            onlyPositional = true;
            continue;
        }
        if (!isOption) {
            if (o.command.empty())
                o.command = arg;
            else
                o.positional.push_back(arg);
            continue;
        }
        if (arg == "-h") {
            o.help = true;
            continue;
        }
        std::string name = arg;
        std::optional<std::string> value;
        if (const auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        if (name == "-o")
            name = "--output"; // the usual short form
        const OptionSpec *spec = findOption(name);
        if (!spec)
            throw UsageError("unknown option '" + name + "'", o.command);
        if (spec->valueName && !value) {
            if (i + 1 >= args.size())
                throw UsageError(name + " needs a value (" + spec->valueName + ")", o.command);
            value = args[++i];
        } else if (!spec->valueName && value) {
            throw UsageError(name + " takes no value", o.command);
        }
        seen.push_back(spec);
        const std::string v = value.value_or("");
        if (name == "--plugins") {
            o.pluginDirs.push_back(v);
        } else if (name == "--workers") {
            o.workers = parseInt(name, v, 1, 4096, o.command);
        } else if (name == "--threads-per-worker") {
            o.threadsPerWorker = parseInt(name, v, 1, 1024, o.command);
        } else if (name == "--threads") {
            o.processes = false;
        } else if (name == "--processes") {
            o.processes = true;
        } else if (name == "--listen") {
            const auto colon = v.rfind(':');
            const std::string port = colon == std::string::npos ? "" : v.substr(colon + 1);
            if (colon == 0 || port.empty() || port.size() > 5
                || port.find_first_not_of("0123456789") != std::string::npos
                || std::stol(port) > 65535)
                throw UsageError("--listen: expected HOST:PORT (e.g. 127.0.0.1:0), got '" + v + "'",
                                 o.command);
            o.listen = v;
        } else if (name == "--token-file") {
            o.tokenFile = v;
        } else if (name == "--no-local-workers") {
            o.localWorkers = false;
        } else if (name == "--tls") {
            if (v != "on" && v != "off" && v != "auto")
                throw UsageError("--tls: expected on, off or auto, got '" + v + "'", o.command);
            o.tls = v == "auto" ? std::nullopt : std::optional<bool>(v == "on");
        } else if (name == "--json") {
            o.json = true;
        } else if (name == "--gdb") {
            o.gdb = true;
        } else if (name == "--log-level") {
            o.logLevel = v;
        } else if (name == "--timeout") {
            char *end = nullptr;
            errno = 0;
            const double seconds = std::strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || errno != 0 || !std::isfinite(seconds) || seconds <= 0)
                throw UsageError(
                    "--timeout: expected a positive number of seconds, got '" + v + "'", o.command);
            o.timeoutSeconds = seconds;
        } else if (name == "--cluster") {
            if (v != "local" && v != "slurm")
                throw UsageError("--cluster: expected local or slurm, got '" + v + "'", o.command);
            o.cluster = v;
        } else if (name == "--jobs") {
            o.jobs = parseInt(name, v, 0, 100000, o.command);
        } else if (name == "--cores") {
            o.cores = parseInt(name, v, 1, 4096, o.command);
        } else if (name == "--memory" || name == "--partition" || name == "--walltime"
                   || name == "--account" || name == "--job-extra" || name == "--job-prologue") {
            // Each becomes one line of the job script.
            if (v.find_first_of("\n\r") != std::string::npos)
                throw UsageError(name + ": must be a single line", o.command);
            if (name == "--memory")
                o.memory = v;
            else if (name == "--partition")
                o.partition = v;
            else if (name == "--walltime")
                o.walltime = v;
            else if (name == "--account")
                o.account = v;
            else if (name == "--job-extra")
                o.jobExtra.push_back(v);
            else
                o.jobPrologue.push_back(v);
        } else if (name == "--adapt-min") {
            o.adaptMin = parseInt(name, v, 0, 100000, o.command);
        } else if (name == "--adapt-max") {
            o.adaptMax = parseInt(name, v, 1, 100000, o.command);
        } else if (name == "--print-job-script") {
            o.printJobScript = true;
        } else if (name == "--help") {
            o.help = true;
        } else if (name == "--version") {
            o.version = true;
        } else if (name == "--retries") {
            o.retries = parseInt(name, v, 0, 1'000'000, o.command);
        } else if (name == "--no-pure") {
            o.pure = false;
        } else if (name == "--key") {
            if (v.empty())
                throw UsageError("--key: the key must not be empty", o.command);
            o.key = v;
        } else if (name == "--priority") {
            o.priority = parseInt(name,
                                  v,
                                  std::numeric_limits<int>::min(),
                                  std::numeric_limits<int>::max(),
                                  o.command);
        } else if (name == "--break") {
            if (v.empty())
                throw UsageError("--break: name a function or a task of the graph", o.command);
            o.breaks.push_back(v);
        } else if (name == "--kwarg") {
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0)
                throw UsageError("--kwarg: expected NAME=VALUE, got '" + v + "'", o.command);
            o.kwargs.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else if (name == "--csv") {
            o.csv = true;
        } else if (name == "--all") {
            o.allTasks = true;
        } else if (name == "--no-history") {
            o.noHistory = true;
        } else if (name == "--no-cache") {
            o.noCache = true;
        } else if (name == "--cache-max-mb") {
            o.cacheMaxMb = parseInt(name, v, 1, 1'000'000, o.command);
        } else if (name == "--db") {
            if (v.empty())
                throw UsageError("--db: the path must not be empty", o.command);
            o.historyDb = v;
        } else if (name == "--session" || name == "--task") {
            std::int64_t id = 0;
            if (!parseInt64(v, id) || id <= 0)
                throw UsageError(name + ": expected a positive integer, got '" + v + "'",
                                 o.command);
            if (name == "--session")
                o.session = id;
            else
                o.taskIds.push_back(std::uint64_t(id));
        } else if (name == "--search") {
            o.search = v;
        } else if (name == "--function") {
            o.filterFunction = v;
        } else if (name == "--task-key") {
            o.filterKey = v;
        } else if (name == "--status") {
            o.filterStatus = v;
        } else if (name == "--error") {
            o.filterError = v;
        } else if (name == "--limit") {
            o.limit = parseInt(name, v, 0, std::numeric_limits<int>::max(), o.command);
        } else if (name == "--format") {
            if (v != "perfetto" && v != "chrome" && v != "csv" && v != "json")
                throw UsageError("--format: expected perfetto, csv or json, got '" + v + "'",
                                 o.command);
            o.exportFormat = v;
        } else if (name == "--output") {
            if (v.empty())
                throw UsageError("--output: the file name must not be empty", o.command);
            o.output = v;
        } else if (name == "--keep-sessions") {
            o.keepSessions = parseInt(name, v, 0, std::numeric_limits<int>::max(), o.command);
        } else if (name == "--keep-days") {
            o.keepDays = parseInt(name, v, 0, 365'000, o.command);
        } else if (name == "--failed") {
            o.failedOnly = true;
        } else if (name == "--range") {
            o.range = v;
        } else if (name == "--inputs") {
            o.inputs = v;
        } else if (name == "--reduce") {
            o.reduce = v;
        }
    }

    if (o.help || o.version)
        return o; // help and version win over everything else
    const bool slurmOptionGiven = std::any_of(seen.begin(), seen.end(), [](const OptionSpec *s) {
        return std::string_view(s->help).rfind("slurm:", 0) == 0;
    });
    const auto given = [&](std::string_view option) {
        return std::any_of(
            seen.begin(), seen.end(), [&](const OptionSpec *s) { return s->name == option; });
    };
    if (given("--threads") && given("--processes"))
        throw UsageError("--threads and --processes exclude each other: choose one kind of worker",
                         o.command);
    if (slurmOptionGiven && o.cluster != "slurm")
        throw UsageError("Slurm options (--jobs, --cores, ...) need --cluster slurm", o.command);
    if (o.adaptMin.has_value() != o.adaptMax.has_value())
        throw UsageError("--adapt-min and --adapt-max go together", o.command);
    if (o.adaptMin && *o.adaptMin > *o.adaptMax)
        throw UsageError("--adapt-min must not exceed --adapt-max", o.command);
    if (o.printJobScript)
        return o; // needs no command
    if (o.command.empty())
        throw UsageError("no command given");
    const CommandSpec *command = findCommand(o.command);
    if (!command)
        throw UsageError("unknown command '" + o.command
                         + "' (commands: plugins, submit, map, run, history, replay, cache, help)");
    if (o.command == "help") {
        o.help = true;
        o.command = o.positional.empty() ? std::string() : o.positional.front();
        if (!o.command.empty() && !findCommand(o.command))
            throw UsageError("help: unknown command '" + o.command + "'");
        o.positional.clear();
        return o;
    }
    for (const OptionSpec *spec : seen)
        if (!optionAllowed(*spec, o.command))
            throw UsageError(std::string(spec->name) + " is not an option of '" + o.command + "'",
                             o.command);
    const int count = int(o.positional.size());
    if (count < command->minPositional)
        throw UsageError(std::string("missing argument: ") + command->synopsis, o.command);
    if (command->maxPositional >= 0 && count > command->maxPositional)
        throw UsageError("unexpected argument '" + o.positional[command->maxPositional] + "'",
                         o.command);
    if (o.command == "map") {
        if (o.range.has_value() == o.inputs.has_value())
            throw UsageError("map needs exactly one of --range A:B[:S] or --inputs FILE",
                             o.command);
    }
    if (o.command == "cache" && o.positional.front() != "stats" && o.positional.front() != "clear")
        throw UsageError("cache: unknown action '" + o.positional.front() + "' (stats, clear)",
                         o.command);
    if (o.command == "history") {
        o.historyAction = o.positional.empty() ? "list" : o.positional.front();
        static const std::vector<std::string> actions = {
            "list", "tasks", "export", "delete", "retention", "rerun", "compare", "critical-path"};
        if (std::find(actions.begin(), actions.end(), o.historyAction) == actions.end())
            throw UsageError("history: unknown action '" + o.historyAction
                                 + "' (list, tasks, export, delete, retention, rerun, compare, "
                                   "critical-path)",
                             o.command);
        const std::string &a = o.historyAction;
        if ((a == "export" || a == "delete" || a == "rerun" || a == "critical-path")
            && o.session == 0)
            throw UsageError("history " + a + " needs --session ID", o.command);
        if (a == "export" && o.exportFormat.empty())
            throw UsageError("history export needs --format perfetto|csv|json", o.command);
        if (a == "retention" && !o.keepSessions && !o.keepDays)
            throw UsageError("history retention needs --keep-sessions N and/or --keep-days D",
                             o.command);
        if (a == "compare") {
            if (o.positional.size() != 3)
                throw UsageError("history compare needs two session IDs: compare A B", o.command);
            for (int i : {1, 2})
                if (!parseInt64(o.positional[std::size_t(i)], o.compare[i - 1])
                    || o.compare[i - 1] <= 0)
                    throw UsageError("history compare: expected a session ID, got '"
                                         + o.positional[std::size_t(i)] + "'",
                                     o.command);
            if (o.json && o.csv)
                throw UsageError("history compare takes --json or --csv, not both", o.command);
        } else if (o.positional.size() > 1) {
            throw UsageError("unexpected argument '" + o.positional[1] + "'", o.command);
        }
        if (a == "rerun" && o.failedOnly && !o.taskIds.empty())
            throw UsageError("history rerun takes --failed or --task ID, not both", o.command);
    }
    return o;
}

std::string helpText(const std::string &command)
{
    std::ostringstream out;
    if (command.empty()) {
        out << "Usage: taskbench-cli [OPTIONS] COMMAND [ARGS...]\n\n"
               "Runs task functions from Taskbench plugins on a local cluster of workers.\n\n"
               "Commands:\n";
        for (const CommandSpec &c : kCommands) {
            std::string left = std::string("  ") + c.name;
            out << left << std::string(12 - left.size(), ' ') << c.summary << "\n";
        }
        out << "\nOptions (before or after the command):\n"
            << optionsHelp({}) << "\n"
            << "Run 'taskbench-cli COMMAND --help' for a command's own options.\n\n"
            << "Examples:\n"
               "  taskbench-cli plugins\n"
               "  taskbench-cli submit tutorial.inc 1\n"
               "  taskbench-cli map tutorial.flaky_inc --range 0:10 --retries 5 --reduce "
               "tutorial.sum\n"
               "  taskbench-cli --json run graph.json\n\n"
            << kExitStatusHelp;
        return out.str();
    }
    const CommandSpec *c = findCommand(command);
    if (!c)
        return helpText({});
    out << "Usage: taskbench-cli [OPTIONS] " << c->synopsis << "\n\n" << c->description;
    const std::string own = optionsHelp(command);
    if (!own.empty())
        out << "\nOptions of " << c->name << ":\n" << own;
    out << "\nGlobal options:\n" << optionsHelp({}) << "\n" << kExitStatusHelp;
    return out.str();
}

std::vector<std::int64_t> parseRange(const std::string &text)
{
    const auto bad
        = [&](const std::string &why) { return InputError("--range '" + text + "': " + why); };
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto colon = text.find(':', start);
        parts.push_back(text.substr(start, colon - start));
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    if (parts.size() < 2 || parts.size() > 3)
        throw bad("expected A:B or A:B:S (integers)");
    std::int64_t a = 0, b = 0, s = 1;
    if (!parseInt64(parts[0], a) || !parseInt64(parts[1], b)
        || (parts.size() == 3 && !parseInt64(parts[2], s)))
        throw bad("expected A:B or A:B:S (integers)");
    if (s == 0)
        throw bad("the step must not be 0");
    // Count in unsigned arithmetic: b - a may not fit in int64.
    std::uint64_t count = 0;
    if (s > 0 && b > a)
        count = (std::uint64_t(b) - std::uint64_t(a) - 1) / std::uint64_t(s) + 1;
    else if (s < 0 && a > b)
        count = (std::uint64_t(a) - std::uint64_t(b) - 1) / (0 - std::uint64_t(s)) + 1;
    if (count > std::uint64_t(kMaxMapInputs))
        throw bad("more than " + std::to_string(kMaxMapInputs) + " values");
    std::vector<std::int64_t> values;
    values.reserve(count);
    std::int64_t v = a;
    for (std::uint64_t i = 0; i < count; ++i) {
        values.push_back(v);
        if (i + 1 < count)
            v += s; // stays inside [a, b), so it cannot overflow
    }
    return values;
}

std::string readFile(const std::string &path, const char *what)
{
    if (path == "-") {
        std::ostringstream content;
        content << std::cin.rdbuf();
        if (std::cin.bad())
            throw InputError(std::string("cannot read ") + what + " from standard input");
        return content.str();
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw InputError(std::string("cannot read ") + what + " '" + path + "': Is a directory");
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(std::string("cannot read ") + what + " '" + path
                         + "': " + (errno ? std::strerror(errno) : "cannot open"));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        throw InputError(std::string("cannot read ") + what + " '" + path
                         + "': " + (errno ? std::strerror(errno) : "read error"));
    return content;
}

std::vector<Value> readInputs(const std::string &path)
{
    const std::string content = readFile(path, "inputs file");
    std::vector<Value> values;
    std::size_t lineNo = 0;
    std::size_t pos = 0;
    while (pos <= content.size()) {
        const auto nl = content.find('\n', pos);
        const std::string line
            = content.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        ++lineNo;
        pos = nl == std::string::npos ? content.size() + 1 : nl + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        std::string error;
        std::optional<Value> v = fromJson(line, &error);
        if (!v)
            throw InputError(path + ":" + std::to_string(lineNo) + ": invalid JSON: " + error);
        if (std::int64_t(values.size()) >= kMaxMapInputs)
            throw InputError(path + ": more than " + std::to_string(kMaxMapInputs) + " inputs");
        values.push_back(std::move(*v));
    }
    return values;
}

} // namespace taskbench::cli
