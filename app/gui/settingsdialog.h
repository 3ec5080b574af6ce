// Cluster and plugin settings: workers, threads per worker, processes or threads, allowed
// failures, and extra plugin folders. The main window asks before restarting the cluster.
#pragma once

#include "taskbench/client.h"

#include <QDialog>

class QCheckBox;
class QListWidget;
class QSpinBox;

namespace taskbench::gui {

class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    SettingsDialog(const ClusterOptions &options,
                   const QStringList &pluginFolders,
                   QWidget *parent = nullptr);

    ClusterOptions options() const;
    QStringList pluginFolders() const;
    /// True when the cluster options differ from `before` (a restart is needed).
    bool clusterChanged(const ClusterOptions &before) const;

private:
    ClusterOptions m_base;
    QSpinBox *m_workers;
    QSpinBox *m_threads;
    QCheckBox *m_processes;
    QSpinBox *m_allowed;
    QListWidget *m_folders;
};

} // namespace taskbench::gui
