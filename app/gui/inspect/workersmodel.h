// The workers table: one row per worker with status, pid (a remote worker's label, host
// and connection in its name and tooltip), threads, running task, tasks done, results held (count
// and bytes) and memory, from Client::workers() snapshots. And the Slurm jobs table: one row per
// job a SlurmCluster submitted (id, queue state, node, worker, cause).
#pragma once

#include "taskbench/client.h"
#include "taskbench/slurmcluster.h"

#include <QAbstractTableModel>

#include <vector>

namespace taskbench::inspect {

class WorkersModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Name,
        Status,
        Pid,
        Threads,
        Running,
        Done,
        Results,
        BytesHeld,
        Memory,
        ColumnCount
    };
    /// Raw values (numbers as qint64) for sorting and tests.
    static constexpr int SortRole = Qt::UserRole + 1;
    static constexpr int WorkerIdRole = Qt::UserRole + 2;

    explicit WorkersModel(QObject *parent = nullptr);

    /// Replaces the snapshot: rows of the same workers update in place (selection survives).
    void setWorkers(std::vector<WorkerInfo> workers);
    const std::vector<WorkerInfo> &workers() const { return m_workers; }
    int rowOfWorker(int id) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<WorkerInfo> m_workers;
};

class SlurmJobsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Job, State, Node, Worker, Cause, ColumnCount };

    explicit SlurmJobsModel(QObject *parent = nullptr);

    /// Replaces the jobs (every job the cluster submitted, oldest first).
    void setJobs(std::vector<SlurmJob> jobs);
    const std::vector<SlurmJob> &jobs() const { return m_jobs; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<SlurmJob> m_jobs;
};

} // namespace taskbench::inspect
