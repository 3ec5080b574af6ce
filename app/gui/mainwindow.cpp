#include "mainwindow.h"

#include "accessibletext.h"
#include "clustersettings.h"
#include "detailsdialog.h"
#include "enginebridge.h"
#include "errorspanel.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "guilogsink.h"
#include "internalbuttonnames.h"
#include "logmodel.h"
#include "logpanel.h"
#include "mapform.h"
#include "pluginspanel.h"
#include "progresspanel.h"
#include "settingsdialog.h"
#include "statusstyle.h"
#include "steeringactions.h"
#include "submissionfollower.h"
#include "submitform.h"
#include "workerlabel.h"

#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"
#include "inspect/workerspanel.h"

#include "history/guirecorder.h"
#include "history/guiresultcache.h"
#include "history/historypanel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTreeView>

namespace taskbench::gui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_futures(new FuturesModel(this))
    , m_log(new LogModel(this))
    , m_bridge(new EngineBridge(m_futures, this))
{
    setWindowTitle(tr("Taskbench"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/taskbench.svg")));
    setAccessibleName(tr("Taskbench"));
    nameInternalButtons(); // before any widget is polished
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks
                   | QMainWindow::AllowNestedDocks);
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::BottomDockWidgetArea);
    m_log->attach(installGuiLogSink());

    m_table = new FuturesTable(m_futures, this);
    setCentralWidget(m_table);
    createDocks();
    createActions();
    resolveShortcutClashes();
    createStatusBar();
    m_follower = new SubmissionFollower(m_bridge, m_futures, m_table, this);
    connect(m_follower, &SubmissionFollower::announced, m_lastAction, [this](const QString &text) {
        setLabelText(m_lastAction, text);
        // "Mapping f over n inputs…" covers "Last action" (a temporary message): once the
        // futures are in the table, what was made replaces it.
        if (!m_mappingPrefix.isEmpty() && statusBar()->currentMessage().startsWith(m_mappingPrefix))
            statusBar()->clearMessage();
    });
    // Edit and retry makes new futures like Submit does: select and announce them.
    connect(m_errors, &ErrorsPanel::editRetried, this, [this](std::uint64_t request) {
        m_follower->follow(request, tr("Edited and retried"));
    });

    auto selection = [this] { return m_table->selectedKeys(); };
    auto known = [this](const QString &key) {
        const FutureRow *r = m_futures->rowByKey(key);
        return r && m_bridge->holds(r->id);
    };
    m_submit->setSelectionProvider(selection);
    m_submit->setKeyValidator(known);
    m_submit->setFutureKeyModel(m_futures, FuturesModel::Key);
    m_map->setSelectionProvider(selection);

    connect(m_bridge->catalog(), &PluginCatalog::pluginsChanged, this, [this] {
        m_submit->setFunctions(m_bridge->catalog()->functions());
        m_map->setFunctions(m_bridge->catalog()->functions());
        const QString selected = m_plugins->currentFunction();
        if (!selected.isEmpty()) {
            m_submit->setCurrentFunction(selected);
            m_map->setCurrentFunction(selected);
        }
    });
    connect(m_plugins, &PluginsPanel::functionSelected, this, [this](const QString &name) {
        m_submit->setCurrentFunction(name);
        m_map->setCurrentFunction(name);
    });
    connect(m_plugins, &PluginsPanel::functionActivated, this, [this](const QString &name) {
        m_submit->setCurrentFunction(name);
        m_map->setCurrentFunction(name);
        if (QDockWidget *d = dock(QStringLiteral("submitDock"))) {
            d->show();
            d->raise();
        }
        if (!m_submit->fields().empty())
            m_submit->setFocus();
    });
    connect(m_submit,
            &SubmitForm::submitRequested,
            this,
            [this](const QString &fn, const std::vector<Value> &args, const SubmitOptions &opts) {
                m_lastSubmitRequest = m_bridge->submit(fn, args, opts);
                m_follower->follow(m_lastSubmitRequest, tr("Submitted"));
            });
    connect(m_map,
            &MapForm::mapRequested,
            this,
            [this](const QString &fn,
                   const std::vector<std::vector<Value>> &args,
                   const SubmitOptions &opts) {
                m_lastMapRequest = m_bridge->mapArgs(fn, args, opts);
                m_follower->follow(m_lastMapRequest, tr("Mapped"));
                const QString text
                    = tr("Mapping %1 over %n input(s)…", nullptr, int(args.size())).arg(fn);
                m_mappingPrefix = text.left(text.indexOf(fn) + fn.size());
                statusBar()->showMessage(text, 4000);
            });
    connect(m_map,
            &MapForm::reduceRequested,
            this,
            [this](const QString &fn, const std::vector<Value> &args, const SubmitOptions &opts) {
                m_lastMapRequest = m_bridge->submit(fn, args, opts);
                m_follower->follow(m_lastMapRequest, tr("Reduced"));
            });
    connect(m_bridge,
            &EngineBridge::submitFailed,
            this,
            [this](quint64 request, const QString &message) {
                if (request == m_lastMapRequest)
                    m_map->showFormError(message);
                else
                    m_submit->showFormError(message);
                statusBar()->showMessage(message, 8000);
            });
    connect(m_bridge, &EngineBridge::message, this, [this](const QString &m) {
        statusBar()->showMessage(m, 5000);
    });
    connect(m_bridge, &EngineBridge::workersChanged, this, &MainWindow::updateStatus);
    connect(m_futures, &FuturesModel::statsChanged, this, &MainWindow::updateStatus);
    connect(m_futures,
            &FuturesModel::taskLog,
            this,
            [this](std::uint64_t, const QString &key, const QString &text, std::int64_t timeUs) {
                LogRecord r;
                r.timeUs = timeUs;
                r.level = 2;
                r.source = key.isEmpty() ? "engine" : "task";
                r.task = key.toStdString();
                r.text = text.toStdString();
                m_log->append({std::move(r)});
            });
    connect(m_table, &FuturesTable::detailsRequested, this, &MainWindow::openDetails);
    connect(m_table, &FuturesTable::selectionChanged, this, &MainWindow::updateSelectionActions);
    connect(m_errors, &ErrorsPanel::detailsRequested, this, &MainWindow::openDetails);
    connectInspectViews();
    connect(m_progress, &ProgressPanel::groupActivated, this, [this](const QString &group) {
        m_table->filterEdit()->setText(group);
    });
    updateStatus();
    updateSelectionActions();
    resize(1280, 800);
    sizeDocks();
    m_defaultState = saveState();
}

MainWindow::~MainWindow() = default;

QDockWidget *MainWindow::addDock(QWidget *content,
                                 const QString &title,
                                 const QString &name,
                                 Qt::DockWidgetArea area,
                                 bool scroll)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setAccessibleName(QString(title).remove(QLatin1Char('&')));
    if (scroll) {
        auto *area = new QScrollArea(dock);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        area->setWidget(content);
        area->setAccessibleName(dock->accessibleName());
        area->setFocusProxy(content);
        dock->setWidget(area);
    } else {
        dock->setWidget(content);
    }
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::createDocks()
{
    m_plugins = new PluginsPanel(m_bridge, this);
    m_submit = new SubmitForm(this);
    m_map = new MapForm(this);
    m_progress = new ProgressPanel(m_futures, this);
    m_errors = new ErrorsPanel(m_bridge, m_futures, this);
    m_logPanel = new LogPanel(m_log, this);

    // Left: plugins above the submit and map forms (full height). Centre: the futures table
    // at full width. Bottom: progress, errors and log side by side, a dashboard strip.
    addDock(m_plugins, tr("Plugins"), QStringLiteral("pluginsDock"), Qt::LeftDockWidgetArea, false);
    QDockWidget *submit = addDock(
        m_submit, tr("Submit"), QStringLiteral("submitDock"), Qt::LeftDockWidgetArea, true);
    QDockWidget *map
        = addDock(m_map, tr("Map"), QStringLiteral("mapDock"), Qt::LeftDockWidgetArea, true);
    tabifyDockWidget(submit, map);
    submit->raise();
    QDockWidget *progress = addDock(m_progress,
                                    tr("Progress"),
                                    QStringLiteral("progressDock"),
                                    Qt::BottomDockWidgetArea,
                                    false);
    QDockWidget *errors = addDock(
        m_errors, tr("Errors"), QStringLiteral("errorsDock"), Qt::BottomDockWidgetArea, false);
    QDockWidget *log = addDock(
        m_logPanel, tr("Log"), QStringLiteral("logDock"), Qt::BottomDockWidgetArea, false);
    splitDockWidget(progress, errors, Qt::Horizontal);
    splitDockWidget(errors, log, Qt::Horizontal);

    // Right: the task graph above the task stream; the workers share the log's place.
    m_graph = new inspect::TaskGraphView(this);
    m_stream = new inspect::TaskStreamView(this);
    m_workersPanel = new inspect::WorkersPanel(this);
    QDockWidget *graph = addDock(
        m_graph, tr("Task graph"), QStringLiteral("graphDock"), Qt::RightDockWidgetArea, false);
    QDockWidget *stream = addDock(
        m_stream, tr("Task stream"), QStringLiteral("streamDock"), Qt::RightDockWidgetArea, false);
    QDockWidget *workers = addDock(m_workersPanel,
                                   tr("Workers"),
                                   QStringLiteral("workersDock"),
                                   Qt::BottomDockWidgetArea,
                                   false);
    splitDockWidget(graph, stream, Qt::Vertical);
    tabifyDockWidget(log, workers);
    log->raise();

    // History (app/gui/history): recorded sessions, with the log and the workers.
    auto *recorder = new GuiRecorder(m_bridge, this);
    m_recorder = recorder;
    m_history = new HistoryPanel(m_bridge, recorder, this);
    // The result cache lives in the history database; its controls are in the History panel.
    m_cacheBox = m_history->addResultCache(new GuiResultCache(m_bridge, recorder, this));
    QDockWidget *history = addDock(
        m_history, tr("History"), QStringLiteral("historyDock"), Qt::BottomDockWidgetArea, false);
    tabifyDockWidget(log, history);
    log->raise();
    // Exports, deletions and re-runs are user actions: announced like Submit.
    connect(m_history, &HistoryPanel::message, this, &MainWindow::announce);
}

void MainWindow::sizeDocks()
{
    // Proportions only mean something once the window has its size: called after resize().
    auto d = [this](const char *name) { return dock(QString::fromLatin1(name)); };
    resizeDocks({d("pluginsDock"), d("submitDock")}, {230, 470}, Qt::Vertical);
    resizeDocks({d("pluginsDock"), d("graphDock")}, {300, 460}, Qt::Horizontal);
    resizeDocks({d("graphDock"), d("streamDock")}, {290, 190}, Qt::Vertical);
    resizeDocks(
        {d("progressDock"), d("errorsDock"), d("logDock")}, {200, 380, 380}, Qt::Horizontal);
    resizeDocks({d("progressDock")}, {240}, Qt::Vertical);
}

void MainWindow::connectInspectViews()
{
    using inspect::TaskGraphView;
    using inspect::TaskStreamView;
    // The views feed on the bridge's frames (GUI thread, in order): no engine subscription
    // of their own.
    connect(
        m_bridge, &EngineBridge::eventsApplied, this, [this](const Event *begin, const Event *end) {
            m_graph->applyEvents(begin, end);
            m_stream->applyEvents(begin, end);
            m_workersPanel->applyEvents(begin, end);
        });
    // A new cluster numbers its tasks from 1 again: start from empty views.
    connect(m_bridge, &EngineBridge::clusterStarted, this, [this] {
        m_graph->clear();
        m_stream->clear();
        m_workersPanel->setClient(m_bridge->client(), m_bridge->slurmCluster());
        m_workersPanel->setListenInfo(m_bridge->listenAddress(), m_bridge->tokenFile());
    });
    connect(m_bridge,
            &EngineBridge::slurmJobsChanged,
            m_workersPanel,
            &inspect::WorkersPanel::setSlurmJobs);
    connect(m_bridge, &EngineBridge::clusterStopped, this, [this] {
        m_graph->clear();
        m_stream->clear();
        m_workersPanel->setClient(nullptr);
    });
    connect(
        m_workersPanel, &inspect::WorkersPanel::restartFinished, this, [this](int worker, bool ok) {
            announce(ok ? tr("Restarting %1").arg(workerLabel(worker))
                        : tr("%1 could not be restarted (it is gone)").arg(workerLabel(worker)));
        });

    // The views' context menus act through the bridge, like the table's.
    auto ids = [](const QList<quint64> &list) {
        return std::vector<std::uint64_t>(list.begin(), list.end());
    };
    auto retry = [this, ids](const QList<quint64> &l) { m_bridge->retry(ids(l)); };
    auto cancel = [this, ids](const QList<quint64> &l) { m_bridge->cancel(ids(l)); };
    auto release = [this, ids](const QList<quint64> &l) { m_bridge->release(ids(l)); };
    auto show = [this](quint64 id) { openDetails(id); };
    connect(m_graph, &TaskGraphView::retryRequested, this, retry);
    connect(m_graph, &TaskGraphView::cancelRequested, this, cancel);
    connect(m_graph, &TaskGraphView::releaseRequested, this, release);
    connect(m_graph, &TaskGraphView::showResultRequested, this, show);
    connect(m_stream, &TaskStreamView::retryRequested, this, retry);
    connect(m_stream, &TaskStreamView::cancelRequested, this, cancel);
    connect(m_stream, &TaskStreamView::releaseRequested, this, release);
    connect(m_stream, &TaskStreamView::showResultRequested, this, show);

    // Linked selection.
    connect(m_table, &FuturesTable::selectionChanged, this, [this] {
        selectTasks(m_table->selectedIds(), m_table);
    });
    connect(m_graph, &TaskGraphView::taskSelected, this, [this](quint64 id) {
        const QList<quint64> selected = m_graph->selectedTasks();
        if (selected.contains(id))
            selectTasks(std::vector<std::uint64_t>(selected.begin(), selected.end()), m_graph);
        else
            selectTasks({id}, m_graph);
    });
    connect(m_stream, &TaskStreamView::taskSelected, this, [this](quint64 id) {
        selectTasks({id}, m_stream);
    });
    connect(m_errors, &ErrorsPanel::taskSelected, this, [this](std::uint64_t id) {
        selectTasks({id}, m_errors);
    });
    connect(m_logPanel, &LogPanel::taskSelected, this, [this](const QString &key) {
        if (const FutureRow *r = m_futures->rowByKey(key))
            selectTasks({r->id}, m_logPanel);
    });
}

void MainWindow::selectTasks(const std::vector<std::uint64_t> &ids, QObject *origin)
{
    // Each view's programmatic selection reports back (the table's does): ignore the echo.
    if (m_linkingSelection)
        return;
    m_linkingSelection = true;
    const std::vector<std::uint64_t> linked(
        ids.begin(), ids.begin() + std::ptrdiff_t(std::min(ids.size(), kLinkedSelectionLimit)));
    const QList<quint64> list(linked.begin(), linked.end());
    if (origin != m_table)
        m_table->selectIds(linked);
    if (origin != m_graph)
        m_graph->selectTasks(list);
    if (origin != m_stream)
        m_stream->selectTasks(list);
    if (origin != m_errors)
        m_errors->selectIds(linked);
    if (origin != m_logPanel) {
        const FutureRow *first = linked.empty() ? nullptr : m_futures->row(linked.front());
        m_logPanel->selectTask(first ? first->key : QString());
    }
    m_linkingSelection = false;
}

void MainWindow::resolveShortcutClashes()
{
    // A view's local key (Qt::WidgetWithChildrenShortcut) that is also a window-wide
    // shortcut makes the key ambiguous while the view has focus, and Qt then runs neither.
    // The window's action works on the linked selection, so the view's copy of the key goes
    // (the action stays in the view's context menu).
    QList<QKeySequence> windowKeys;
    for (QAction *a : actions())
        windowKeys += a->shortcuts();
    for (QWidget *view : {static_cast<QWidget *>(m_graph),
                          static_cast<QWidget *>(m_stream),
                          static_cast<QWidget *>(m_workersPanel)})
        for (QAction *a : view->findChildren<QAction *>()) {
            QList<QKeySequence> keep;
            for (const QKeySequence &k : a->shortcuts())
                if (!windowKeys.contains(k))
                    keep << k;
            if (keep.size() != a->shortcuts().size())
                a->setShortcuts(keep);
        }
}

void MainWindow::createStatusBar()
{
    auto make = [this](const QString &name, FutureStatus status, bool icon) {
        auto *w = new QWidget(this);
        auto *l = new QHBoxLayout(w);
        l->setContentsMargins(6, 0, 6, 0);
        l->setSpacing(4);
        if (icon) {
            auto *i = new QLabel(w);
            i->setPixmap(statusIcon(status).pixmap(14, 14));
            l->addWidget(i);
        }
        auto *label = new QLabel(w);
        label->setAccessibleName(name);
        l->addWidget(label);
        statusBar()->addPermanentWidget(w);
        return label;
    };
    // Not a permanent widget: temporary messages may cover it. Its accessible description
    // is its text (setLabelText), so a screen reader reads what the last Submit, Map or
    // Reduce made.
    m_lastAction = new QLabel(this);
    m_lastAction->setAccessibleName(tr("Last action"));
    m_lastAction->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_lastAction->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    statusBar()->addWidget(m_lastAction, 1);
    m_statusWorkers = make(tr("Workers"), FutureStatus::Pending, false);
    m_statusRunning = make(tr("Running"), FutureStatus::Processing, true);
    m_statusQueued = make(tr("Queued"), FutureStatus::Pending, true);
    m_statusHeld = make(tr("Held"), FutureStatus::Held, true);
    m_statusFinished = make(tr("Finished"), FutureStatus::Finished, true);
    m_statusErrors = make(tr("Errors"), FutureStatus::Error, true);
    statusBar()->addPermanentWidget(m_steering->statusLabel());
    m_steering->statusLabel()->hide();
}

void MainWindow::updateStatus()
{
    const ClusterOptions &o = m_bridge->clusterOptions();
    const bool slurm = m_bridge->clusterSettings().kind == ClusterKind::Slurm;
    const QString kindText = slurm         ? tr(" (Slurm)")
                             : o.processes ? tr(" (processes)")
                                           : tr(" (threads)");
    QString workers = m_bridge->isRunning()
                          ? tr("%n worker(s)", nullptr, m_bridge->workerCount()) + kindText
                          : tr("cluster stopped");
    // Where remote workers connect, so they can be started by hand.
    if (m_bridge->isRunning() && !m_bridge->listenAddress().isEmpty())
        workers += tr(" · listening on %1").arg(m_bridge->listenAddress());
    setLabelText(m_statusWorkers, workers);
    if (QAction *a = action(QStringLiteral("copyWorkerCommand")))
        a->setEnabled(m_bridge->isRunning() && !m_bridge->listenAddress().isEmpty());
    setLabelText(m_statusRunning, tr("%1 running").arg(m_futures->count(FutureStatus::Processing)));
    setLabelText(m_statusQueued, tr("%1 queued").arg(m_futures->count(FutureStatus::Pending)));
    setLabelText(m_statusHeld, tr("%1 held").arg(m_futures->count(FutureStatus::Held)));
    m_statusHeld->parentWidget()->setVisible(m_futures->count(FutureStatus::Held) > 0);
    setLabelText(m_statusFinished, tr("%1 finished").arg(m_futures->count(FutureStatus::Finished)));
    setLabelText(m_statusErrors,
                 tr("%n error(s)", nullptr, int(m_futures->count(FutureStatus::Error))));
    if (QAction *a = action(QStringLiteral("retryAll")))
        a->setEnabled(m_futures->count(FutureStatus::Error) > 0);
}

void MainWindow::announce(const QString &text)
{
    setLabelText(m_lastAction, text);
    statusBar()->showMessage(text, 8000);
}

void MainWindow::updateSelectionActions()
{
    const bool any = !m_table->selectedIds().empty();
    for (const char *name : {"retry", "cancel", "release", "copyResult", "details", "showStack"})
        if (QAction *a = action(QString::fromLatin1(name)))
            a->setEnabled(any);
}

QDockWidget *MainWindow::dock(const QString &objectName) const
{
    return findChild<QDockWidget *>(objectName);
}

QAction *MainWindow::action(const QString &objectName) const
{
    for (QAction *a : actions())
        if (a->objectName() == objectName)
            return a;
    return nullptr;
}

void MainWindow::startEngine(const ClusterOptions &options)
{
    m_bridge->catalog()->scan();
    // After restoreSettings(), the saved cluster type (and Slurm job options) applies too.
    ClusterSettings settings;
    if (property("clusterRestored").toBool()) {
        QSettings s;
        settings = ClusterSettings::load(s);
    }
    settings.options = options;
    m_bridge->start(settings);
    updateStatus();
}

DetailsDialog *MainWindow::openDetails(std::uint64_t id)
{
    if (!id)
        return nullptr;
    auto it = m_details.find(id);
    if (it != m_details.end()) {
        it->second->show();
        it->second->raise();
        it->second->activateWindow();
        return it->second;
    }
    auto *d = new DetailsDialog(m_bridge, m_futures, id, this);
    m_details.emplace(id, d);
    connect(d, &QObject::destroyed, this, [this, id] { m_details.erase(id); });
    connect(d, &DetailsDialog::openRequested, this, &MainWindow::openDetails);
    d->show();
    return d;
}

void MainWindow::retrySelection()
{
    std::vector<std::uint64_t> ids = m_table->selectedIds();
    if (ids.empty())
        ids = m_errors->selectedIds();
    m_bridge->retry(ids);
}

void MainWindow::cancelSelection()
{
    m_bridge->cancel(m_table->selectedIds());
}

void MainWindow::releaseSelection()
{
    m_bridge->release(m_table->selectedIds());
}

void MainWindow::copySelection()
{
    const auto ids = m_table->selectedIds();
    if (ids.empty())
        return;
    m_bridge->fetchResultsJson(ids, this, [this](const QString &text) {
        QApplication::clipboard()->setText(text);
        statusBar()->showMessage(
            tr("Copied %n line(s)", nullptr, int(text.count(QLatin1Char('\n')) + 1)), 3000);
    });
}

void MainWindow::showSettings()
{
    SettingsDialog dialog(m_bridge->clusterSettings(), m_bridge->catalog()->extraFolders(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const bool foldersChanged = dialog.pluginFolders() != m_bridge->catalog()->extraFolders();
    m_bridge->catalog()->setExtraFolders(dialog.pluginFolders());
    if (foldersChanged)
        m_bridge->catalog()->scan();
    if (dialog.clusterChanged(m_bridge->clusterSettings())) {
        const int live
            = m_futures->count(FutureStatus::Pending) + m_futures->count(FutureStatus::Processing);
        const QString text
            = live > 0
                  ? tr("Restart the cluster now? %n unfinished future(s) will be cancelled and "
                       "the table cleared.",
                       nullptr,
                       live)
                  : tr("Restart the cluster now? The table will be cleared.");
        if (QMessageBox::question(
                this, tr("Restart cluster"), text, QMessageBox::Yes | QMessageBox::No)
            == QMessageBox::Yes) {
            m_bridge->restart(dialog.settings());
            announce(tr("Restarted the cluster with the new settings"));
        }
        updateStatus();
    }
    saveSettings();
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState);
    for (QDockWidget *d : findChildren<QDockWidget *>())
        d->show();
}

ClusterOptions MainWindow::savedClusterOptions()
{
    QSettings s;
    return ClusterSettings::load(s).options;
}

QStringList MainWindow::savedPluginFolders()
{
    return QSettings().value(QStringLiteral("plugins/folders")).toStringList();
}

void MainWindow::restoreSettings()
{
    QSettings s;
    if (s.contains(QStringLiteral("window/geometry")))
        restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    if (s.contains(QStringLiteral("window/state")))
        restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    setProperty("clusterRestored", true); // startEngine() uses the saved cluster type
}

void MainWindow::saveSettings() const
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("plugins/folders"), m_bridge->catalog()->extraFolders());
    m_bridge->clusterSettings().save(s);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (property("saveOnClose").toBool())
        saveSettings();
    event->accept();
}

} // namespace taskbench::gui
