// taskbench-cli's Slurm cluster (--cluster slurm): the command line options turned into
// SlurmOptions, and the cluster started for a listening client.
#pragma once

#include "commandline.h"

#include "taskbench/client.h"
#include "taskbench/slurmcluster.h"

#include <memory>
#include <string>

namespace taskbench::cli {

/// The job options of the command line; address and token as given (they may be
/// placeholders when only printing the job script).
SlurmOptions slurmOptions(const Options &opts,
                          const std::string &schedulerAddress,
                          const std::string &tokenFile);

/// Where a Slurm cluster listens without --listen: this host's name, any free port (the
/// compute nodes must reach it; loopback would not do).
std::string defaultSlurmListen();

/// The address --print-job-script shows: --listen's (or the default), with PORT standing
/// for a port chosen at start (port 0).
std::string printedSchedulerAddress(const Options &opts);

/// Submits the jobs (--jobs N, or --adapt-min/--adapt-max) for a listening client. Throws
/// InputError when the client does not listen or Slurm refuses the options.
std::unique_ptr<SlurmCluster> startSlurmCluster(Client &client, const Options &opts);

} // namespace taskbench::cli
