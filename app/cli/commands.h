// The commands of taskbench-cli and what each needs before it runs. main() prepares that
// much (the plugins loaded; for work commands a cluster started and recorded) into a
// CommandContext and calls the command. A new command is one file defining its function
// (declared here) and one line in the table in main.cpp; its options and help text are in
// commandline.cpp's tables.
#pragma once

#include "commandline.h"

#include "taskbench/client.h"
#include "taskbench/functionregistry.h"
#include "taskbench/pluginloader.h"

#include <memory>
#include <string>
#include <vector>

namespace taskbench::history {
class Recorder;
}

namespace taskbench::cli {

/// How much main() sets up before a command runs.
enum class Needs {
    Options, ///< only the parsed command line (no plugins are loaded)
    Plugins, ///< the plugins scanned into the registry
    Cluster, ///< plugins, a started client and (unless --no-history) the run's recorder
};

struct CommandContext
{
    explicit CommandContext(const Options &options)
        : opts(options)
    {}

    const Options &opts;

    // Needs::Plugins and Needs::Cluster.
    std::shared_ptr<FunctionRegistry> registry;
    std::unique_ptr<PluginLoader> loader;
    PluginScanReport scanned;
    std::vector<std::string> pluginFolders;

    // Needs::Cluster.
    Client *client = nullptr;
    history::Recorder *recorder = nullptr; ///< null with --no-history or an unusable database

    /// Hands submitted futures to the run's recording (if any).
    void track(const std::vector<Future> &futures, const SubmitOptions &options) const;
};

int commandPlugins(CommandContext &ctx); // pluginscommand.cpp
int commandSubmit(CommandContext &ctx);  // submitcommand.cpp
int commandMap(CommandContext &ctx);     // mapcommand.cpp
int commandRun(CommandContext &ctx);     // runcommand.cpp
int commandHistory(CommandContext &ctx); // historycommand.cpp: list, tasks, export, ...
int commandRerun(CommandContext &ctx);   // reruncommand.cpp: history rerun
int commandReplay(CommandContext &ctx);  // replaycommand.cpp: one recorded task, foreground

} // namespace taskbench::cli
