// The only place in the GUI that talks to the engine: it runs the Client (a local or Slurm
// cluster) with the plugins of its PluginCatalog, feeds the engine's events through its
// EventPump to the futures model and every view, holds the GUI's Future handles, and
// marshals the rest across threads:
//
//  - Submissions run on a serial background queue (a big map builds its records off the GUI
//    thread; order is kept, so a later call may refer to an earlier call's futures).
//  - Queries (results for previews, stories, workers) run on a background pool; answers come
//    back as queued calls. Nothing here ever waits on a future on the GUI thread.
#pragma once

#include "clustersettings.h"
#include "eventpump.h"
#include "futuresmodel.h"
#include "handletable.h"
#include "plugincatalog.h"
#include "taskdetails.h"

#include "taskbench/client.h"
#include "taskbench/pluginloader.h"
#include "taskbench/slurmcluster.h"

#include <QObject>
#include <QSet>
#include <QStringList>
#include <QThreadPool>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace taskbench::gui {

class EngineBridge : public QObject
{
    Q_OBJECT
public:
    explicit EngineBridge(FuturesModel *futures, QObject *parent = nullptr);
    ~EngineBridge() override;

    // --- plugins ---
    PluginCatalog *catalog() { return &m_catalog; }
    const PluginCatalog *catalog() const { return &m_catalog; }
    /// The running cluster's client (null while stopped), for observers such as the history
    /// recorder. They must not keep it past clusterStopped() longer than they need.
    std::shared_ptr<Client> client() const { return m_client; }
    /// The GUI's handles for these ids (the ones it holds).
    std::vector<Future> futures(const std::vector<std::uint64_t> &ids) const
    {
        return handlesFor(ids);
    }

    // --- cluster ---
    /// A local cluster with these options.
    void start(const ClusterOptions &options);
    /// A local or Slurm cluster. For Slurm the client listens (settings.clientOptions())
    /// and a SlurmCluster submits the jobs; sbatch/squeue run on its own thread.
    void start(const ClusterSettings &settings);
    /// Stops the cluster (running work is cancelled) and starts a new one; the old one
    /// (Slurm jobs first, then the client) is shut down on a background thread so the
    /// window stays responsive.
    void restart(const ClusterOptions &options);
    void restart(const ClusterSettings &settings);
    bool isRunning() const { return bool(m_client); }
    /// The options the client runs with (for Slurm: listening, no local workers).
    const ClusterOptions &clusterOptions() const { return m_options; }
    /// The settings as the user chose them.
    const ClusterSettings &clusterSettings() const { return m_settings; }
    int workerCount() const { return m_workers; }
    /// The worker is a live local process worker, whose running task "Kill now" can stop
    /// (as of the last count; threads and remote workers cannot be killed from here).
    bool isKillableWorker(int worker) const { return m_killableWorkers.contains(worker); }
    /// "tcp://host:port" while listening for remote workers, else empty.
    QString listenAddress() const { return m_listenAddress; }
    QString tokenFile() const { return m_tokenFile; }
    /// The running Slurm cluster (null for a local one). Its blocking calls (close,
    /// waitFor...) must not run on the GUI thread; scale and adapt return at once.
    std::shared_ptr<SlurmCluster> slurmCluster() const { return m_slurm; }

    // --- work (asynchronous; answers come as submitted()/submitFailed()) ---
    std::uint64_t submit(const QString &function, std::vector<Value> args, SubmitOptions opts);
    std::uint64_t
    mapArgs(const QString &function, std::vector<std::vector<Value>> argLists, SubmitOptions opts);
    void retry(const std::vector<std::uint64_t> &ids);
    void cancel(const std::vector<std::uint64_t> &ids);
    /// Drops the GUI's handles; tasks nobody else needs are forgotten (their rows go away).
    void release(const std::vector<std::uint64_t> &ids);
    /// Edit & retry: re-runs a failed task with new arguments and re-submits its downstream
    /// tasks on the new result (finished upstream results are reused by reference). The old
    /// erred futures are released, so the new ones take their place in the table.
    std::uint64_t editAndRetry(std::uint64_t id, std::vector<Value> args);
    /// The key of a held future ("" if not held).
    QString keyOf(std::uint64_t id) const;
    bool holds(std::uint64_t id) const { return m_handles.contains(id); }
    /// Submissions still being built on the background queue.
    int pendingSubmissions() const { return m_pendingSubmissions; }

    // --- queries (asynchronous; `done` runs on the GUI thread while `context` lives) ---
    void fetchStory(std::uint64_t id, QObject *context, std::function<void(TaskStory)> done);
    /// JSON of each finished result (others as their error or status), one per line.
    void fetchResultsJson(const std::vector<std::uint64_t> &ids,
                          QObject *context,
                          std::function<void(QString)> done);

    /// Called on the submission thread with each call's new futures before submitted() is
    /// emitted, so an observer (the history recorder) copies a 100,000-future map off the GUI
    /// thread. Set it from the GUI thread; null removes it.
    using SubmissionTap = std::function<void(const std::vector<Future> &)>;
    void setSubmissionTap(SubmissionTap tap);

    /// Called with the options of each cluster about to start, on the GUI thread (the
    /// result cache adds itself). The bridge's own clusterOptions() stay as set.
    using ClusterOptionsHook = std::function<void(ClusterOptions &)>;
    void setClusterOptionsHook(ClusterOptionsHook hook) { m_optionsHook = std::move(hook); }

    /// Applies whatever events are waiting now instead of at the next frame (tests, demo).
    void flushNow();

signals:
    void submitted(quint64 request, const std::vector<std::uint64_t> &ids);
    void submitFailed(quint64 request, const QString &message);
    /// Each slice of engine events once the futures model has it (GUI thread, in order, at
    /// most ~30 Hz plus catch-up slices; see EventPump). Other views (graph, task stream)
    /// feed on this instead of subscribing to the engine themselves.
    void eventsApplied(const taskbench::Event *begin, const taskbench::Event *end);
    /// After every applied frame of events.
    void frameApplied();
    void workersChanged(int count);
    /// The Slurm cluster's jobs changed (GUI thread; every job it submitted, oldest first).
    void slurmJobsChanged(const std::vector<taskbench::SlurmJob> &jobs);
    void clusterStarted();
    void clusterStopped();
    /// A short message for the status bar.
    void message(const QString &text);

private:
    /// After each frame of events: results to preview, workers to count.
    void onFrame(bool workersCameOrWent);
    /// Counts the live workers in the background; workersChanged() says how many.
    void countWorkers();
    void requestResults(std::vector<std::uint64_t> ids);
    /// On the GUI thread, as a submission comes back: false when it failed (submitFailed()
    /// is emitted) or belongs to a cluster that has gone since.
    bool submissionLanded(std::uint64_t generation, std::uint64_t request, const QString &error);
    /// Holds the new futures' handles (fetching results that came first); their ids.
    std::vector<std::uint64_t> takeHandles(std::vector<Future> futures);
    /// Runs `work(Client &) -> std::vector<Future>` on the submission thread (see submit()).
    template <typename Work>
    std::uint64_t queueSubmission(Work work);
    std::vector<Future> handlesFor(const std::vector<std::uint64_t> &ids) const;

    FuturesModel *m_futures;
    PluginCatalog m_catalog;
    EventPump m_pump;

    void startSlurm();

    ClusterOptions m_options;
    ClusterOptionsHook m_optionsHook;
    ClusterSettings m_settings;
    QString m_listenAddress;
    QString m_tokenFile;
    std::shared_ptr<Client> m_client;
    std::shared_ptr<SlurmCluster> m_slurm; ///< closed before m_client
    HandleTable m_handles;
    std::unordered_set<std::uint64_t> m_resultsWaiting; ///< done before their handle came back
    int m_workers = 0;
    QSet<int> m_killableWorkers;
    int m_pendingSubmissions = 0;
    std::uint64_t m_nextRequest = 1;
    std::uint64_t m_generation = 0; ///< bumped on restart: late answers are dropped

    std::mutex m_tapMutex; ///< the tap is called on the submission thread
    SubmissionTap m_tap;
    void tap(const std::vector<Future> &futures);
    /// Runs a command that waits for the scheduler off the GUI thread, after the
    /// submissions queued before it; an error it throws goes to message().
    void onSubmitQueue(std::function<void(Client &)> command);
    /// Runs a Client command over the futures of `ids` still held, on the submit queue, and
    /// says what it does (`doing`, a "%n task(s)" text to translate); nothing if none is held.
    void onHeldFutures(const std::vector<std::uint64_t> &ids,
                       void (Client::*command)(const std::vector<Future> &),
                       const char *doing);
    QThreadPool m_submitQueue; ///< one thread: submissions keep their order
    QThreadPool m_queryPool;
};

} // namespace taskbench::gui
