// taskbench-cli: the command line front end of the futures engine. It loads plugins, starts
// a local cluster, submits one call (`submit`), one task per input (`map`, optionally
// reduced) or a graph of named tasks (`run`), waits, and prints every output future; it also
// lists plugins and reads the run history. This file only dispatches: the commands are in
// <name>command.cpp (see commands.h), the printing in reporting.cpp.
//
// It never hangs and never crashes on bad input: input is checked before the cluster
// starts, engine refusals (std::invalid_argument) become exit code 2, a waiting loop in short
// slices notices Ctrl-C (cancel, exit 130) and --timeout, and a watchdog bounds shutdown.
#include "cachecommand.h"
#include "cluster.h"
#include "commandline.h"
#include "commands.h"
#include "functions.h"
#include "recording.h"
#include "resultstream.h"
#include "signals.h"
#include "slurmsetup.h"

#include "taskbench/logging.h"
#include "taskbench/sdk.h"

#include <iostream>
#include <optional>
#include <string_view>

#ifndef TASKBENCH_VERSION
#define TASKBENCH_VERSION "unknown"
#endif

using namespace taskbench;
using namespace taskbench::cli;

namespace {

struct Command
{
    std::string_view name;
    std::string_view action; ///< history's action; empty: any
    Needs needs;
    int (*run)(CommandContext &);
    /// Checks that need the plugins but no cluster (cheap failures first); may be null.
    void (*check)(const FunctionRegistry &, const Options &);
};

// The first entry whose name (and action) matches runs.
const Command kCommands[] = {
    {"plugins", {}, Needs::Plugins, commandPlugins, nullptr},
    {"submit", {}, Needs::Cluster, commandSubmit, requireFunctionArgument},
    {"map", {}, Needs::Cluster, commandMap, requireFunctionArgument},
    {"run", {}, Needs::Cluster, commandRun, nullptr},
    {"history", "rerun", Needs::Cluster, commandRerun, nullptr},
    {"history", {}, Needs::Options, commandHistory, nullptr},
    {"replay", {}, Needs::Options, commandReplay, nullptr},
    {"cache",
     {},
     Needs::Options,
     [](CommandContext &ctx) { return commandCache(historyPath(ctx.opts), ctx.opts); },
     nullptr},
};

const Command &findCommand(const Options &opts)
{
    for (const Command &c : kCommands)
        if (c.name == opts.command && (c.action.empty() || c.action == opts.historyAction))
            return c;
    throw UsageError("unknown command '" + opts.command + "'"); // parseCommandLine checked it
}

/// Starts the cluster (and the Slurm jobs, and the recording) the command runs in.
int runInCluster(const Command &command, CommandContext &ctx, const std::string &title)
{
    const Options &opts = ctx.opts;
    checkWorkerExecutable(opts);
    // First in, last out: everything below may run tasks in this process.
    const ResultStream results;
    if (command.check)
        command.check(*ctx.registry, opts);
    // Null with --no-cache or --no-history; held by the client, so it outlives it.
    const std::shared_ptr<history::SqliteResultCache> resultCache
        = openResultCache(historyPath(opts), opts, pluginPaths(*ctx.loader));
    const std::unique_ptr<Client> client
        = startClient(opts, *ctx.loader, ctx.registry, resultCache);
    // After the client: its jobs are cancelled before the client goes.
    std::unique_ptr<SlurmCluster> slurm;
    if (opts.cluster == "slurm")
        slurm = startSlurmCluster(*client, opts);
    // Declared after the client, so the recorder finishes before the client goes.
    std::optional<history::Recorder> recorder;
    if (!opts.noHistory)
        startRecording(recorder, *client, opts, title);
    if (resultCache && recorder) // entries name the session that computed them
        resultCache->setSession(recorder->sessionId());
    ctx.client = client.get();
    ctx.recorder = recorder ? &*recorder : nullptr;
    return command.run(ctx);
}

int runCli(int argc, char **argv)
{
    const Options opts = parseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
    if (opts.version) {
        std::cout << "taskbench-cli " << TASKBENCH_VERSION << " (plugin SDK "
                  << TASKBENCH_SDK_VERSION_STRING << ")\n";
        return kExitOk;
    }
    if (opts.help) {
        std::cout << helpText(opts.command);
        return kExitOk;
    }
    if (opts.printJobScript) { // the Slurm job script, to read or adapt; starts nothing
        std::cout << SlurmCluster::jobScript(
            slurmOptions(opts, printedSchedulerAddress(opts), opts.tokenFile));
        return kExitOk;
    }
    log::useStderr();
    if (!log::setLevel(opts.logLevel))
        throw UsageError("--log-level: unknown level '" + opts.logLevel
                         + "' (trace, debug, info, warn, error, critical, off)");
    installSignalHandlers();
    const Command &command = findCommand(opts);
    CommandContext ctx(opts);
    if (command.needs == Needs::Options)
        return command.run(ctx);

    ctx.registry = std::make_shared<FunctionRegistry>();
    ctx.loader = std::make_unique<PluginLoader>(*ctx.registry);
    ctx.pluginFolders = pluginFolders(opts);
    ctx.scanned = ctx.loader->scan(ctx.pluginFolders);
    if (command.needs == Needs::Plugins)
        return command.run(ctx);
    if (interrupted())
        return interruptedExitCode();

    std::string title; // the recorded session's title: the command line
    for (int i = 1; i < argc; ++i)
        title += (i > 1 ? " " : "") + std::string(argv[i]);
    return runInCluster(command, ctx, title);
}

} // namespace

int main(int argc, char **argv)
{
    guardStandardStreams();
    try {
        const int code = runCli(argc, argv);
        if (const std::string failure = standardOutputFailure(); !failure.empty()) {
            std::cerr << "taskbench-cli: " << failure << "; the output is incomplete\n";
            return code == kExitOk ? kExitOutputLost : code;
        }
        return code;
    } catch (const UsageError &e) {
        std::cerr << "taskbench-cli: " << e.what() << "\n"
                  << "Try 'taskbench-cli " << (e.command().empty() ? "" : e.command() + " ")
                  << "--help'.\n";
        return kExitUsage;
    } catch (const InputError &e) {
        std::cerr << "taskbench-cli: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception &e) {
        std::cerr << "taskbench-cli: internal error: " << e.what() << "\n";
        return kExitTaskFailed;
    } catch (...) {
        std::cerr << "taskbench-cli: internal error (unknown exception)\n";
        return kExitTaskFailed;
    }
}
