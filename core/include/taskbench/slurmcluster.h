// Workers as Slurm batch jobs (dask-jobqueue's SLURMCluster, natively). Each job runs one
// taskbench-worker that connects back to a listening Client over TCP; the SlurmCluster
// submits jobs (sbatch), cancels them (scancel), follows their queue state (squeue), maps
// each job to the worker it started, and keeps the number of jobs at a target, fixed
// (scale) or following the queued work (adapt).
//
// A job that ends without being asked to (scancel from outside, walltime, node failure)
// is a lost worker: its running tasks run elsewhere and its results are recomputed by the
// engine; the SlurmCluster names the cause ("job 42 cancelled") in the event log and in
// jobs(), and submits a replacement to keep the target.
//
// Thread safety: every method may be called from any thread except the GUI thread for the
// blocking ones (scale/adapt return at once; close and waitForWorkers block).
#pragma once

#include "taskbench/client.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace taskbench {

struct SlurmOptions
{
    int cores = 1;                     ///< --cpus-per-task, and the worker's threads
    std::string memory = "2G";         ///< --mem (Slurm syntax: 500M, 4G)
    std::string partition;             ///< --partition; empty: the site's default
    std::string walltime = "01:00:00"; ///< --time
    std::string account;               ///< --account; empty: none
    std::vector<std::string> jobExtra; ///< more sbatch options, one per #SBATCH line
    std::vector<std::string> prologue; ///< shell lines run before the worker (module load...)
    std::string jobName = "taskbench-worker";
    /// Where each job's output goes (sbatch --output; %j is the job id). Empty: Slurm's
    /// default, slurm-%j.out in the submission folder.
    std::string outputPattern;

    /// The worker command on the compute nodes (default: taskbench-worker next to the
    /// running binary, the right choice when nodes share the file system).
    std::string workerExecutable;
    /// Where workers connect: "tcp://host:port" (a Client listening there).
    std::string schedulerAddress;
    /// The shared secret workers prove they know (the Client reads the same file).
    std::string tokenFile;
    /// More worker arguments (e.g. --plugin paths, --log-level).
    std::vector<std::string> workerExtra;

    /// Folder of sbatch/squeue/scancel; empty: found on PATH.
    std::string slurmBinDir;
    std::chrono::milliseconds pollInterval{1000}; ///< squeue every so often
    /// Adaptive mode: scale down only after the work stayed low this long.
    std::chrono::milliseconds adaptCooldown{5000};
    /// Jobs in a row that end before their worker connected: stop submitting (a broken
    /// worker command or a site that rejects the jobs would otherwise loop forever).
    int maxFailedStarts = 3;
};

enum class SlurmJobState : std::uint8_t { Pending, Running, Ended };
const char *toString(SlurmJobState state);

struct SlurmJob
{
    std::string id; ///< Slurm's job id
    SlurmJobState state = SlurmJobState::Pending;
    std::string slurmState;       ///< Slurm's own word: PENDING, RUNNING, CANCELLED, TIMEOUT...
    std::string node;             ///< where it runs (empty while pending)
    std::string reason;           ///< why it is pending (squeue's reason), if any
    std::string cause;            ///< why it ended: "job 42 cancelled", "scaled down"
    std::string workerName;       ///< the name its worker announces: slurm-<id>
    int worker = -1;              ///< the engine's worker id once connected, -1 before
    bool cancelRequested = false; ///< this cluster cancelled it (scale down, close)
    bool lost = false;            ///< ended without being asked to: its worker was lost
    std::int64_t submittedUs = 0; ///< wall clock, microseconds since the Unix epoch
};

class SlurmCluster
{
public:
    /// The client must listen where options.schedulerAddress points and outlive this.
    /// Submits nothing yet: call scale() or adapt(). Throws std::invalid_argument for bad
    /// options (cores < 1, no scheduler address, a newline in a job option).
    SlurmCluster(Client &client, SlurmOptions options);
    ~SlurmCluster(); ///< close()
    SlurmCluster(const SlurmCluster &) = delete;
    SlurmCluster &operator=(const SlurmCluster &) = delete;

    const SlurmOptions &options() const;

    /// The batch script each job runs (print it, adapt it, submit it by hand).
    std::string jobScript() const;
    static std::string jobScript(const SlurmOptions &options);

    /// Keeps `jobs` jobs (pending or running): submits or cancels (pending ones first, then
    /// the least busy). A running job's worker is retired first (Client::retireWorker: its
    /// results move to the scheduler, nothing is recomputed), then the job is cancelled.
    /// Leaves adaptive mode. Returns at once; the poll thread does it.
    void scale(int jobs);
    /// Adaptive mode: between minimum and maximum jobs, one per `cores` queued or running
    /// tasks; scales down once the work stayed low for adaptCooldown.
    void adapt(int minimum, int maximum);
    /// The current target number of jobs.
    int target() const;

    /// Every job this cluster submitted (ended ones too), oldest first.
    std::vector<SlurmJob> jobs() const;
    /// Blocks until the target's jobs are submitted (not yet running): false when sbatch
    /// keeps failing (see lastError()) or the timeout passes.
    bool waitUntilSubmitted(std::chrono::milliseconds timeout);
    /// Blocks until `count` jobs have a connected worker (or the timeout passes, or the
    /// cluster gave up submitting); true when reached.
    bool waitForWorkers(int count, std::chrono::milliseconds timeout);
    /// The last Slurm error (a failed sbatch, squeue or scancel), empty if none.
    std::string lastError() const;

    /// Called (on the poll thread) whenever a job changes state or worker; keep it short.
    using JobsChanged = std::function<void(const std::vector<SlurmJob> &)>;
    void onJobsChanged(JobsChanged callback);

    /// Cancels every job and waits (up to ~10 s) until Slurm reports them ended, so that
    /// nothing is left running. Idempotent.
    void close();

private:
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace taskbench
