// The workers panel: background snapshots, the table, scaling and restart.
#include "workerspanel.h"

#include "accessibletext.h"

#include "inspectstyle.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <span>

namespace taskbench::inspect {

using gui::setLabelText;

WorkersPanel::WorkersPanel(QWidget *parent)
    : QWidget(parent)
    , m_model(new WorkersModel(this))
    , m_jobsModel(new SlurmJobsModel(this))
{
    setAccessibleName(QStringLiteral("Workers"));
    setAccessibleDescription(QStringLiteral("The cluster's workers, refreshed every second"));
    m_pool.setMaxThreadCount(1);

    m_summary = new QLabel(this);
    m_summary->setAccessibleName(QStringLiteral("Workers summary"));
    setLabelText(m_summary, tr("No cluster"));
    // The summary gives way (elided by its width) rather than widening a docked panel.
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_summary->setMinimumWidth(60);
    auto *scaleLabel = new QLabel(tr("&Workers:"), this);
    m_spin = new QSpinBox(this);
    m_spin->setRange(0, 512);
    m_spin->setAccessibleName(QStringLiteral("Number of workers"));
    m_spin->setToolTip(tr("Scale the cluster to this many workers (Enter applies)"));
    scaleLabel->setBuddy(m_spin);
    m_scaleButton = new QPushButton(tr("&Scale"), this);
    m_scaleButton->setAccessibleName(QStringLiteral("Scale cluster"));
    m_restartButton = new QPushButton(tr("&Restart worker"), this);
    m_restartButton->setAccessibleName(QStringLiteral("Restart worker"));

    m_table = new QTableView(this);
    m_table->setAccessibleName(QStringLiteral("Workers table"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(WorkersModel::Running, QHeaderView::Stretch);
    m_table->setShowGrid(false);

    // Where remote workers connect, and the command to start one by hand.
    m_listenLabel = new QLabel(this);
    m_listenLabel->setAccessibleName(QStringLiteral("Listen address"));
    m_listenLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_listenLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_listenLabel->setMinimumWidth(60);
    m_copyCommand = new QPushButton(tr("Copy wor&ker command"), this);
    m_copyCommand->setAccessibleName(QStringLiteral("Copy worker command"));
    m_copyCommand->setToolTip(
        tr("Copy the taskbench-worker command line that joins this cluster from another machine"));
    connect(m_copyCommand, &QPushButton::clicked, this, &WorkersPanel::copyWorkerCommand);
    auto *listenBar = new QHBoxLayout;
    listenBar->setContentsMargins(6, 0, 6, 4);
    listenBar->addWidget(m_listenLabel, 1);
    listenBar->addWidget(m_copyCommand);
    m_listenLabel->hide();
    m_copyCommand->hide();

    // The Slurm jobs: every job the cluster submitted, with its queue state and worker.
    m_jobsBox = new QWidget(this);
    auto *jobsLayout = new QVBoxLayout(m_jobsBox);
    jobsLayout->setContentsMargins(0, 4, 0, 0);
    jobsLayout->setSpacing(2);
    auto *jobsLabel = new QLabel(tr("Slurm &jobs"), m_jobsBox);
    jobsLabel->setContentsMargins(6, 0, 6, 0);
    m_jobsTable = new QTableView(m_jobsBox);
    m_jobsTable->setAccessibleName(QStringLiteral("Slurm jobs"));
    jobsLabel->setBuddy(m_jobsTable);
    m_jobsTable->setModel(m_jobsModel);
    m_jobsTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_jobsTable->setAlternatingRowColors(true);
    m_jobsTable->setWordWrap(false);
    m_jobsTable->setShowGrid(false);
    m_jobsTable->verticalHeader()->hide();
    m_jobsTable->verticalHeader()->setDefaultSectionSize(m_jobsTable->fontMetrics().height() + 8);
    m_jobsTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_jobsTable->horizontalHeader()->setSectionResizeMode(SlurmJobsModel::Cause,
                                                          QHeaderView::Stretch);
    jobsLayout->addWidget(jobsLabel);
    jobsLayout->addWidget(m_jobsTable, 1);
    m_jobsBox->hide();

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 4);
    bar->addWidget(m_summary, 1);
    bar->addWidget(scaleLabel);
    bar->addWidget(m_spin);
    bar->addWidget(m_scaleButton);
    bar->addSpacing(12);
    bar->addWidget(m_restartButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addLayout(listenBar);
    layout->addWidget(m_table, 2);
    layout->addWidget(m_jobsBox, 1);

    connect(m_scaleButton, &QPushButton::clicked, this, &WorkersPanel::applyScale);
    connect(m_spin, &QSpinBox::valueChanged, this, [this] { m_spinEdited = true; });
    connect(m_spin, &QSpinBox::editingFinished, this, [this] {
        if (m_spin->hasFocus() && m_spinEdited)
            applyScale();
    });
    connect(m_restartButton, &QPushButton::clicked, this, &WorkersPanel::restartSelected);
    connect(m_table->selectionModel(),
            &QItemSelectionModel::selectionChanged,
            this,
            &WorkersPanel::updateButtons);
    connect(&m_watcher,
            &QFutureWatcher<std::vector<WorkerInfo>>::finished,
            this,
            &WorkersPanel::snapshotArrived);
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &WorkersPanel::refresh);
    updateButtons();
}

WorkersPanel::~WorkersPanel()
{
    m_timer.stop();
    m_watcher.disconnect(this);
    m_pool.waitForDone();
}

void WorkersPanel::setClient(const std::shared_ptr<Client> &client,
                             const std::shared_ptr<SlurmCluster> &slurm)
{
    setSlurmVisible(bool(client && slurm));
    m_jobsModel->setJobs({});
    if (!client) {
        setSource({}, {});
        setListenInfo({}, {});
        return;
    }
    std::weak_ptr<Client> weak = client;
    std::weak_ptr<SlurmCluster> weakSlurm = slurm;
    const bool isSlurm = bool(slurm);
    setSource(
        [weak]() -> std::vector<WorkerInfo> {
            if (auto c = weak.lock())
                return c->workers();
            return {};
        },
        [weak, weakSlurm, isSlurm](int n) {
            // A Slurm cluster's workers are its jobs: submit or cancel jobs.
            if (isSlurm) {
                if (auto s = weakSlurm.lock())
                    s->scale(n);
            } else if (auto c = weak.lock()) {
                c->scale(n);
            }
        },
        [weak](int id) {
            auto c = weak.lock();
            return c && c->restartWorker(id);
        });
}

void WorkersPanel::setSource(Fetch fetch, Scale scale, Restart restart)
{
    m_fetch = fetch ? std::make_shared<Fetch>(std::move(fetch)) : nullptr;
    m_scale = scale ? std::make_shared<Scale>(std::move(scale)) : nullptr;
    m_restart = restart ? std::make_shared<Restart>(std::move(restart)) : nullptr;
    if (!m_fetch) {
        m_timer.stop();
        m_model->setWorkers({});
        setLabelText(m_summary, tr("No cluster"));
    } else {
        m_timer.start();
        refresh();
    }
    updateButtons();
}

void WorkersPanel::setListenInfo(const QString &address, const QString &tokenFile)
{
    m_listenAddress = address;
    m_tokenFile = tokenFile;
    const bool listening = !address.isEmpty();
    m_listenLabel->setVisible(listening);
    m_copyCommand->setVisible(listening);
    setLabelText(m_listenLabel,
                 listening
                     ? tr("Listening for workers on %1 (token file %2)").arg(address, tokenFile)
                     : QString());
    m_listenLabel->setToolTip(workerCommand());
}

QString WorkersPanel::workerCommand() const
{
    if (m_listenAddress.isEmpty())
        return {};
    auto quote = [](QString s) {
        static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_./:@%+=-]+$"));
        if (plain.match(s).hasMatch())
            return s;
        return QLatin1Char('\'') + s.replace(QLatin1Char('\''), QStringLiteral("'\\''"))
               + QLatin1Char('\'');
    };
    return QStringLiteral("taskbench-worker --scheduler %1 --token-file %2")
        .arg(quote(m_listenAddress), quote(m_tokenFile));
}

void WorkersPanel::copyWorkerCommand()
{
    const QString command = workerCommand();
    if (!command.isEmpty())
        QApplication::clipboard()->setText(command);
}

void WorkersPanel::setSlurmJobs(std::vector<SlurmJob> jobs)
{
    m_jobsModel->setJobs(std::move(jobs));
}

void WorkersPanel::setSlurmVisible(bool on)
{
    m_jobsBox->setVisible(on);
    m_spin->setToolTip(on ? tr("Scale the Slurm cluster to this many jobs (Enter applies)")
                          : tr("Scale the cluster to this many workers (Enter applies)"));
}

void WorkersPanel::setRefreshInterval(int ms)
{
    m_timer.setInterval(std::max(50, ms));
}

void WorkersPanel::setRestartSupported(bool on)
{
    m_restartSupported = on;
    updateButtons();
}

void WorkersPanel::applyEvents(const Event *begin, const Event *end)
{
    for (const Event &e : std::span(begin, end))
        if (e.kind == EventKind::WorkerAdded || e.kind == EventKind::WorkerRemoved) {
            refresh();
            return;
        }
}

void WorkersPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

void WorkersPanel::refresh()
{
    // A hidden panel (a closed dock) costs nothing: no round trips to the scheduler.
    if (!m_fetch || m_inFlight || (!isVisible() && m_refreshes > 0))
        return;
    m_inFlight = true;
    auto fetch = m_fetch;
    m_watcher.setFuture(QtConcurrent::run(&m_pool, [fetch] { return (*fetch)(); }));
}

void WorkersPanel::snapshotArrived()
{
    m_inFlight = false;
    std::vector<WorkerInfo> workers = m_watcher.result();
    const int selected = selectedWorker();
    m_model->setWorkers(std::move(workers));
    if (selected >= 0) {
        const int row = m_model->rowOfWorker(selected);
        if (row >= 0 && !m_table->selectionModel()->isRowSelected(row, {}))
            m_table->selectRow(row);
    }
    int threads = 0;
    int busy = 0;
    std::uint64_t done = 0;
    for (const WorkerInfo &w : m_model->workers()) {
        threads += w.threads;
        busy += w.running.empty() ? 0 : 1;
        done += w.tasksDone;
    }
    const int count = int(m_model->workers().size());
    setLabelText(m_summary,
                 tr("%n worker(s)", nullptr, count) + tr(" · %n thread(s)", nullptr, int(threads))
                     + tr(" · %1 busy").arg(busy)
                     + tr(" · %1 task(s) done", nullptr, int(done)).arg(formatCount(done)));
    // Follow the cluster's size unless the user is choosing a new one.
    if (!m_spinEdited && !m_scaling) {
        const QSignalBlocker block(m_spin);
        m_spin->setValue(count);
    }
    ++m_refreshes;
    updateButtons();
    emit refreshed();
}

void WorkersPanel::applyScale()
{
    if (!m_scale || m_scaling)
        return;
    const int n = m_spin->value();
    m_scaling = true;
    m_spinEdited = false;
    updateButtons();
    auto scale = m_scale;
    auto *watcher = new QFutureWatcher<void>(this);
    connect(watcher, &QFutureWatcher<void>::finished, this, [this, watcher] {
        watcher->deleteLater();
        m_scaling = false;
        updateButtons();
        refresh();
    });
    watcher->setFuture(QtConcurrent::run(&m_pool, [scale, n] { (*scale)(n); }));
}

int WorkersPanel::selectedWorker() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return -1;
    return rows.front().data(WorkersModel::WorkerIdRole).toInt();
}

void WorkersPanel::restartSelected()
{
    const int id = selectedWorker();
    if (id < 0 || m_restarting || !(m_restart || m_restartSupported))
        return;
    emit restartRequested(id);
    if (!m_restart)
        return; // whoever set restart support handles the request
    m_restarting = true;
    updateButtons();
    auto restart = m_restart;
    auto *watcher = new QFutureWatcher<bool>(this);
    connect(watcher, &QFutureWatcher<bool>::finished, this, [this, watcher, id] {
        watcher->deleteLater();
        m_restarting = false;
        updateButtons();
        refresh();
        emit restartFinished(id, watcher->result());
    });
    watcher->setFuture(QtConcurrent::run(&m_pool, [restart, id] { return (*restart)(id); }));
}

void WorkersPanel::updateButtons()
{
    m_scaleButton->setEnabled(m_scale && !m_scaling);
    m_spin->setEnabled(bool(m_scale));
    const bool supported = m_restart || m_restartSupported;
    m_restartButton->setEnabled(supported && !m_restarting && selectedWorker() >= 0);
    m_restartButton->setToolTip(
        supported ? tr("Restart the selected worker: a process worker is killed and started "
                       "again (its tasks re-run), a thread worker is replaced once its "
                       "running tasks finish")
                  : tr("Not available: this cluster source cannot restart a worker"));
}

} // namespace taskbench::inspect
