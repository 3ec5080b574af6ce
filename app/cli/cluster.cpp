// Plugin folders and the client of taskbench-cli (see cluster.h).
#include "cluster.h"

#include "slurmsetup.h"

#include <filesystem>
#include <iostream>
#include <set>

#include <unistd.h>

namespace taskbench::cli {

std::vector<std::string> pluginFolders(const Options &opts)
{
    std::vector<std::string> folders = PluginLoader::defaultSearchPath();
    for (const std::string &dir : opts.pluginDirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            throw InputError("--plugins '" + dir + "': not a directory");
        folders.push_back(dir);
    }
    // The same folder twice (e.g. --plugins naming the default folder) would load every
    // plugin twice.
    std::vector<std::string> unique;
    std::set<std::string> seen;
    for (const std::string &dir : folders) {
        std::error_code ec;
        std::string canonical = std::filesystem::weakly_canonical(dir, ec).string();
        if (ec)
            canonical = dir;
        if (seen.insert(canonical).second)
            unique.push_back(dir);
    }
    return unique;
}

void checkWorkerExecutable(const Options &opts)
{
    if (!opts.processes)
        return;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const std::string worker = (self.parent_path() / "taskbench-worker").string();
    if (!ec && ::access(worker.c_str(), X_OK) != 0)
        throw InputError("--processes: the worker executable " + worker
                         + " is missing (build the taskbench-worker target)");
}

std::vector<std::string> pluginPaths(const PluginLoader &loader)
{
    std::vector<std::string> paths;
    for (const PluginRecord &p : loader.plugins())
        paths.push_back(p.path);
    return paths;
}

std::unique_ptr<Client> startClient(const Options &opts,
                                    const PluginLoader &loader,
                                    std::shared_ptr<FunctionRegistry> registry,
                                    std::shared_ptr<ResultCache> resultCache)
{
    ClusterOptions cluster;
    cluster.workers = opts.workers;
    cluster.threadsPerWorker = opts.threadsPerWorker;
    cluster.processes = opts.processes;
    cluster.listen = opts.listen;
    cluster.tokenFile = opts.tokenFile;
    cluster.localWorkers = opts.localWorkers;
    cluster.tls = opts.tls;
    if (opts.cluster == "slurm") { // every worker a Slurm job: none here, a port they reach
        cluster.localWorkers = false;
        if (cluster.listen.empty())
            cluster.listen = defaultSlurmListen();
    }
    cluster.pluginPaths = pluginPaths(loader);
    cluster.resultCache = std::move(resultCache);

    std::unique_ptr<Client> client;
    try {
        client = std::make_unique<Client>(cluster, std::move(registry));
    } catch (const std::runtime_error &e) {
        if (cluster.listen.empty())
            throw;
        throw InputError("--listen " + cluster.listen + ": " + e.what()); // port taken, token
    }
    if (!cluster.listen.empty())
        std::cerr << "taskbench: listening for workers on " << client->listenAddress()
                  << " (token file " << client->tokenFile() << ")" << std::endl;
    return client;
}

} // namespace taskbench::cli
