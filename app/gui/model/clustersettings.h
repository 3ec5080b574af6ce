// The GUI's cluster settings: a local cluster (optionally listening for remote workers) or
// a Slurm cluster (every worker a batch job that connects back). Maps to ClusterOptions and
// SlurmOptions, checks user input (clear messages, never an exception), and is saved with
// QSettings under "cluster/". Widget-free, so tests and the engine bridge share it.
#pragma once

#include "taskbench/client.h"
#include "taskbench/slurmcluster.h"

#include <QString>

class QSettings;

namespace taskbench::gui {

enum class ClusterKind { Local, Slurm };

struct ClusterSettings
{
    ClusterKind kind = ClusterKind::Local;
    /// Local workers, allowed failures, and the remote-worker port (listen, tokenFile, tls).
    ClusterOptions options;

    // Slurm: the job options (cores, memory, partition, walltime, account, jobExtra are
    // used; the address and token come from the listening client at start).
    SlurmOptions slurm;
    int jobs = 1;          ///< fixed number of jobs (scale)
    bool adaptive = false; ///< follow the queued work between adaptMin and adaptMax
    int adaptMin = 0;
    int adaptMax = 4;

    /// What the Client starts with: for Slurm no local workers and a port the compute
    /// nodes reach (the given listen address, else this host's name with any free port).
    ClusterOptions clientOptions() const;
    /// The job options for workers connecting to `address` with `tokenFile`.
    SlurmOptions slurmOptions(const std::string &address, const std::string &tokenFile) const;
    /// True when running `other` needs a new cluster (ignores nothing that matters).
    bool differsFrom(const ClusterSettings &other) const;

    static ClusterSettings load(QSettings &settings);
    void save(QSettings &settings) const;
};

/// Empty when `hostPort` is a usable listen address (HOST:PORT, [v6]:PORT, port 0 = any),
/// else what is wrong with it.
QString listenAddressProblem(const QString &hostPort);
/// The first problem of the settings (a message naming the field), empty when they are fine.
QString settingsProblem(const ClusterSettings &settings);
/// This host's name with port 0 (what a Slurm cluster listens on by default).
QString defaultSlurmListen();

} // namespace taskbench::gui
