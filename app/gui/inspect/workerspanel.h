// The workers panel: a table of the cluster's workers refreshed about once a second from
// Client::workers(), called on a background thread (never on the GUI thread), plus scaling
// the cluster up and down with a spin box and restarting the selected worker
// (Client::restartWorker, on the same background thread).
//
// A listening cluster shows where remote workers connect, with a button copying the command
// that starts one by hand. A Slurm cluster adds its jobs table (fed by setSlurmJobs, from
// SlurmCluster::onJobsChanged) and scaling goes through SlurmCluster::scale.
//
// With a source that cannot restart workers the Restart button stays disabled until
// setRestartSupported(true); it then only emits restartRequested(workerId).
#pragma once

#include "workersmodel.h"

#include "taskbench/client.h"
#include "taskbench/events.h"

#include <QFutureWatcher>
#include <QThreadPool>
#include <QTimer>
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

class QLabel;
class QPushButton;
class QSplitter;
class QSpinBox;
class QTableView;

namespace taskbench::inspect {

class WorkersPanel : public QWidget
{
    Q_OBJECT
public:
    using Fetch = std::function<std::vector<WorkerInfo>()>;
    using Scale = std::function<void(int)>;
    /// Restarts one worker; false when there is no such worker.
    using Restart = std::function<bool(int)>;

    explicit WorkersPanel(QWidget *parent = nullptr);
    ~WorkersPanel() override;

    /// Watches this client (held weakly: a cluster restart just swaps the client). With a
    /// Slurm cluster (also held weakly), scaling submits or cancels jobs and the jobs
    /// table shows.
    void setClient(const std::shared_ptr<Client> &client,
                   const std::shared_ptr<SlurmCluster> &slurm = {});
    /// Where remote workers connect ("tcp://host:port") and their token file; empty: the
    /// cluster does not listen (the line hides).
    void setListenInfo(const QString &address, const QString &tokenFile);
    /// The command that starts a remote worker by hand (empty when not listening).
    QString workerCommand() const;
    /// The Slurm cluster's jobs (GUI thread).
    void setSlurmJobs(std::vector<SlurmJob> jobs);
    /// Shows or hides the Slurm jobs table (setClient does it).
    void setSlurmVisible(bool on);
    /// Or any source: `fetch`, `scale` and `restart` run on the panel's background thread.
    /// A `restart` function enables the Restart button.
    void setSource(Fetch fetch, Scale scale, Restart restart = {});
    /// WorkerAdded/WorkerRemoved trigger an immediate refresh; the rest is ignored.
    void applyEvents(const taskbench::Event *begin, const taskbench::Event *end);
    void applyEvents(const taskbench::EventBatch &batch)
    {
        applyEvents(batch.data(), batch.data() + batch.size());
    }
    void setRefreshInterval(int ms);
    void setRestartSupported(bool on);

    WorkersModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    SlurmJobsModel *slurmJobsModel() const { return m_jobsModel; }
    QTableView *slurmJobsTable() const { return m_jobsTable; }
    QLabel *listenLabel() const { return m_listenLabel; }
    QSpinBox *scaleSpinBox() const { return m_spin; }
    /// Snapshots received so far (tests wait on it).
    int refreshCount() const { return m_refreshes; }

public slots:
    /// Fetches a snapshot now (unless one is in flight).
    void refresh();
    /// Scales the cluster to the spin box's value.
    void applyScale();
    void restartSelected();
    /// Copies workerCommand() to the clipboard.
    void copyWorkerCommand();

signals:
    void restartRequested(int workerId);
    /// The source's restart call returned (`ok` false: no such worker any more).
    void restartFinished(int workerId, bool ok);
    /// After each snapshot.
    void refreshed();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void snapshotArrived();
    void updateButtons();
    int selectedWorker() const;

    WorkersModel *m_model;
    QTableView *m_table;
    QLabel *m_summary;
    QLabel *m_listenLabel;
    QPushButton *m_copyCommand;
    QString m_listenAddress;
    QString m_tokenFile;
    SlurmJobsModel *m_jobsModel;
    QWidget *m_jobsBox;
    QTableView *m_jobsTable;
    QSpinBox *m_spin;
    QPushButton *m_scaleButton;
    QPushButton *m_restartButton;
    QTimer m_timer;
    QThreadPool m_pool; ///< one thread: fetches and scale calls never pile up
    QFutureWatcher<std::vector<WorkerInfo>> m_watcher;
    std::shared_ptr<Fetch> m_fetch;
    std::shared_ptr<Scale> m_scale;
    std::shared_ptr<Restart> m_restart;
    bool m_inFlight = false;
    bool m_restartSupported = false;
    bool m_scaling = false;
    bool m_restarting = false;
    bool m_spinEdited = false; ///< the user picked a size not applied yet
    int m_refreshes = 0;
};

} // namespace taskbench::inspect
