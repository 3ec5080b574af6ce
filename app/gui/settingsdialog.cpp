#include "settingsdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace taskbench::gui {

SettingsDialog::SettingsDialog(const ClusterOptions &options,
                               const QStringList &pluginFolders,
                               QWidget *parent)
    : QDialog(parent)
    , m_base(options)
{
    setWindowTitle(tr("Settings"));
    auto *layout = new QVBoxLayout(this);
    auto *cluster = new QGroupBox(tr("Local cluster"), this);
    auto *form = new QFormLayout(cluster);
    m_workers = new QSpinBox(cluster);
    m_workers->setRange(0, 1024);
    m_workers->setSpecialValueText(tr("one per core (%1)").arg(QThread::idealThreadCount()));
    m_workers->setValue(options.workers);
    m_workers->setAccessibleName(tr("Workers"));
    auto *wl = new QLabel(tr("&Workers:"), cluster);
    wl->setBuddy(m_workers);
    form->addRow(wl, m_workers);
    m_threads = new QSpinBox(cluster);
    m_threads->setRange(1, 256);
    m_threads->setValue(options.threadsPerWorker);
    m_threads->setAccessibleName(tr("Threads per worker"));
    auto *tl = new QLabel(tr("&Threads per worker:"), cluster);
    tl->setBuddy(m_threads);
    form->addRow(tl, m_threads);
    m_processes = new QCheckBox(
        tr("&Process workers (isolation; a crashing task cannot take the app down)"), cluster);
    m_processes->setChecked(options.processes);
    m_processes->setAccessibleName(tr("Process workers"));
    form->addRow(m_processes);
    m_allowed = new QSpinBox(cluster);
    m_allowed->setRange(0, 100);
    m_allowed->setValue(options.allowedFailures);
    m_allowed->setAccessibleName(tr("Allowed failures"));
    m_allowed->setToolTip(tr("Worker deaths a task may see before it errs"));
    auto *al = new QLabel(tr("&Allowed failures:"), cluster);
    al->setBuddy(m_allowed);
    form->addRow(al, m_allowed);
    layout->addWidget(cluster);

    auto *plugins = new QGroupBox(tr("Extra plugin folders"), this);
    auto *pl = new QHBoxLayout(plugins);
    m_folders = new QListWidget(plugins);
    m_folders->setAccessibleName(tr("Plugin folders"));
    m_folders->addItems(pluginFolders);
    pl->addWidget(m_folders, 1);
    auto *buttons = new QVBoxLayout;
    auto *add = new QPushButton(tr("A&dd…"), plugins);
    add->setAccessibleName(tr("Add plugin folder"));
    auto *remove = new QPushButton(tr("&Remove"), plugins);
    remove->setAccessibleName(tr("Remove plugin folder"));
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch(1);
    pl->addLayout(buttons);
    layout->addWidget(plugins);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Plugin folder"));
        if (!dir.isEmpty())
            m_folders->addItem(dir);
    });
    connect(remove, &QPushButton::clicked, this, [this] { delete m_folders->currentItem(); });

    auto *box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    box->button(QDialogButtonBox::Ok)->setAccessibleName(tr("OK"));
    box->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    connect(box, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(box);
}

ClusterOptions SettingsDialog::options() const
{
    ClusterOptions o = m_base;
    o.workers = m_workers->value();
    o.threadsPerWorker = m_threads->value();
    o.processes = m_processes->isChecked();
    o.allowedFailures = m_allowed->value();
    return o;
}

QStringList SettingsDialog::pluginFolders() const
{
    QStringList out;
    for (int i = 0; i < m_folders->count(); ++i)
        out << m_folders->item(i)->text();
    return out;
}

bool SettingsDialog::clusterChanged(const ClusterOptions &before) const
{
    const ClusterOptions o = options();
    return o.workers != before.workers || o.threadsPerWorker != before.threadsPerWorker
           || o.processes != before.processes || o.allowedFailures != before.allowedFailures;
}

} // namespace taskbench::gui
