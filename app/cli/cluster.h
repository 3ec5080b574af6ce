// The plugins and the cluster a taskbench-cli command runs with: plugin folders (the default
// search path plus --plugins), and a client started from the command line's cluster options
// (local workers, a listening port for remote workers, or a Slurm cluster's scheduler).
#pragma once

#include "commandline.h"

#include "taskbench/client.h"
#include "taskbench/functionregistry.h"
#include "taskbench/pluginloader.h"
#include "taskbench/resultcache.h"

#include <memory>
#include <string>
#include <vector>

namespace taskbench::cli {

/// The default search path and every --plugins DIR, each folder once. Throws InputError
/// for a --plugins that is not a directory.
std::vector<std::string> pluginFolders(const Options &opts);

/// With process workers, the taskbench-worker executable beside this one must exist:
/// without it the cluster would have no workers and wait forever. Throws InputError.
void checkWorkerExecutable(const Options &opts);

/// Starts the client of the command line's cluster with the loaded plugins; says on stderr
/// where it listens for remote workers. A port that cannot be taken is an InputError.
/// `resultCache` (may be null) serves pure tasks computed in earlier runs.
std::unique_ptr<Client> startClient(const Options &opts,
                                    const PluginLoader &loader,
                                    std::shared_ptr<FunctionRegistry> registry,
                                    std::shared_ptr<ResultCache> resultCache);
/// The files of the loaded plugins (what the workers load, what the cache hashes).
std::vector<std::string> pluginPaths(const PluginLoader &loader);

} // namespace taskbench::cli
