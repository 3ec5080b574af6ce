// Cluster and plugin settings: the cluster type (local or Slurm); for a local cluster its
// workers, threads per worker, processes or threads, and the port remote workers may join
// (listen address, token file, TLS); for Slurm the job options (jobs or adaptive range,
// cores, memory, partition, walltime, account, extra sbatch lines) and the job script;
// allowed failures; extra plugin folders. OK checks the input and names the first problem
// instead of closing. The main window asks before restarting the cluster.
#pragma once

#include "clustersettings.h"

#include <QDialog>

class QCheckBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QSpinBox;

namespace taskbench::gui {

class ChoicePicker;

class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    SettingsDialog(const ClusterSettings &settings,
                   const QStringList &pluginFolders,
                   QWidget *parent = nullptr);
    SettingsDialog(const ClusterOptions &options,
                   const QStringList &pluginFolders,
                   QWidget *parent = nullptr);

    /// The settings as entered (whether valid or not; see problem()).
    ClusterSettings settings() const;
    ClusterOptions options() const { return settings().options; }
    QStringList pluginFolders() const;
    /// True when the cluster settings differ from `before` (a restart is needed).
    bool clusterChanged(const ClusterSettings &before) const;
    bool clusterChanged(const ClusterOptions &before) const;
    /// The first problem of the input, empty when OK would accept it.
    QString problem() const;
    /// The message shown under the fields after a refused OK.
    QString shownProblem() const;
    /// The batch script Slurm jobs would run with these settings (or what is wrong).
    QString jobScriptText() const;

public slots:
    void accept() override;
    void showJobScript();

private:
    void updateKind();

    ClusterSettings m_base;
    ChoicePicker *m_kind;
    QGroupBox *m_localBox;
    QGroupBox *m_slurmBox;
    QSpinBox *m_workers;
    QSpinBox *m_threads;
    QCheckBox *m_processes;
    QSpinBox *m_allowed;
    QLineEdit *m_listen;
    QLineEdit *m_token;
    ChoicePicker *m_tls;
    QSpinBox *m_jobs;
    QCheckBox *m_adaptive;
    QSpinBox *m_adaptMin;
    QSpinBox *m_adaptMax;
    QSpinBox *m_cores;
    QLineEdit *m_memory;
    QLineEdit *m_partition;
    QLineEdit *m_walltime;
    QLineEdit *m_account;
    QPlainTextEdit *m_jobExtra;
    QLabel *m_problem;
    QListWidget *m_folders;
};

} // namespace taskbench::gui
