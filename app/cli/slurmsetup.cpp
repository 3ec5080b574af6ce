#include "slurmsetup.h"

#include "taskbench/logging.h"

#include <stdexcept>

#include <unistd.h>

namespace taskbench::cli {

SlurmOptions
slurmOptions(const Options &opts, const std::string &schedulerAddress, const std::string &tokenFile)
{
    SlurmOptions o;
    o.cores = opts.cores;
    o.memory = opts.memory;
    o.partition = opts.partition;
    o.walltime = opts.walltime;
    o.account = opts.account;
    o.jobExtra = opts.jobExtra;
    o.prologue = opts.jobPrologue;
    o.schedulerAddress = schedulerAddress;
    o.tokenFile = tokenFile;
    if (opts.logLevel != "warn")
        o.workerExtra = {"--log-level", opts.logLevel};
    return o;
}

std::string defaultSlurmListen()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
        return "0.0.0.0:0";
    return std::string(name) + ":0";
}

std::string printedSchedulerAddress(const Options &opts)
{
    std::string listen = opts.listen.empty() ? defaultSlurmListen() : opts.listen;
    if (listen.size() >= 2 && listen.compare(listen.size() - 2, 2, ":0") == 0)
        listen.replace(listen.size() - 1, 1, "PORT");
    return "tcp://" + listen;
}

std::unique_ptr<SlurmCluster> startSlurmCluster(Client &client, const Options &opts)
{
    const std::string address = client.listenAddress();
    if (address.empty())
        throw InputError(
            "--cluster slurm: the cluster does not listen for workers (give --listen HOST:PORT)");
    std::unique_ptr<SlurmCluster> slurm;
    try {
        slurm = std::make_unique<SlurmCluster>(client,
                                               slurmOptions(opts, address, client.tokenFile()));
    } catch (const std::invalid_argument &e) {
        throw InputError(std::string("--cluster slurm: ") + e.what());
    }
    if (opts.adaptMin) {
        slurm->adapt(*opts.adaptMin, *opts.adaptMax);
        log::get("cli")->info(
            "Slurm cluster: adaptive, {} to {} jobs", *opts.adaptMin, *opts.adaptMax);
    } else {
        slurm->scale(opts.jobs);
        log::get("cli")->info("Slurm cluster: {} jobs", opts.jobs);
    }
    // A site that refuses the job (bad partition, account, memory) fails here, not silently.
    if (!slurm->waitUntilSubmitted(std::chrono::seconds(60)))
        throw InputError("--cluster slurm: " + slurm->lastError());
    return slurm;
}

} // namespace taskbench::cli
