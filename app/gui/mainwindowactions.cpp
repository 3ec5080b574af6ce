// MainWindow::createActions: the window's actions as one table (name, icon, text, shortcut,
// tip, what it does), then the menus, the toolbar and the table's context menu built from
// their names. Capabilities with actions of their own (steering, critical path, replay) add
// them through their own classes.
#include "mainwindow.h"

#include "accessibletext.h"
#include "actionspec.h"
#include "enginebridge.h"
#include "errorspanel.h"
#include "futurestable.h"
#include "history/resultcachebox.h"
#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"
#include "inspect/workerspanel.h"
#include "mapform.h"
#include "pathhighlights.h"
#include "pluginspanel.h"
#include "replayactions.h"
#include "stackwindow.h"
#include "steeringactions.h"
#include "submitform.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>
#include <QTreeView>

#include <functional>
#include <map>

namespace taskbench::gui {

void MainWindow::createActions()
{
    const ActionSpec specs[] = {
        {"loadPlugin",
         "open",
         tr("&Load plugin…"),
         QKeySequence::Open,
         tr("Load a plugin library"),
         [this] { m_plugins->loadPluginDialog(); }},
        {"reloadPlugins",
         "reload",
         tr("&Reload plugins"),
         QKeySequence(Qt::Key_F5),
         tr("Reload changed plugin libraries"),
         [this] { m_plugins->reload(); }},
        {"settings",
         "settings",
         tr("&Settings…"),
         QKeySequence(Qt::CTRL | Qt::Key_Comma),
         tr("Cluster and plugin settings"),
         [this] { showSettings(); }},
        {"quit", "", tr("&Quit"), QKeySequence::Quit, tr("Quit Taskbench"), [this] { close(); }},
        {"submit",
         "submit",
         tr("&Submit"),
         QKeySequence(Qt::CTRL | Qt::Key_Return),
         tr("Submit the call in the submit form"),
         [this] { m_submit->trySubmit(); }},
        {"map",
         "map",
         tr("&Map"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return),
         tr("Map the function over the inputs in the map form"),
         [this] { m_map->tryMap(); }},
        {"retry",
         "retry",
         tr("&Retry selection"),
         QKeySequence(Qt::CTRL | Qt::Key_R),
         tr("Re-run the selected failed futures"),
         [this] { retrySelection(); }},
        {"retryAll",
         "retry",
         tr("Retry &all failed"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R),
         tr("Re-run every failed future"),
         [this] { m_errors->retryAllFailed(); }},
        {"cancel",
         "cancel",
         tr("&Cancel selection"),
         QKeySequence(Qt::CTRL | Qt::Key_Period),
         tr("Cancel the selected futures"),
         [this] { cancelSelection(); }},
        {"release",
         "release",
         tr("R&elease selection"),
         QKeySequence(Qt::Key_Delete),
         tr("Release the selected futures (their results are freed)"),
         [this] { releaseSelection(); }},
        {"copyResult",
         "copy",
         tr("C&opy result"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
         tr("Copy the selected results as JSON"),
         [this] { copySelection(); }},
        {"details",
         "details",
         tr("&Details…"),
         QKeySequence(Qt::CTRL | Qt::Key_I),
         tr("Show the selected future's details"),
         [this] {
             const auto ids = m_table->selectedIds();
             if (!ids.empty())
                 openDetails(ids.front());
         }},
        {"showStack",
         "",
         tr("Show &stack…"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K),
         tr("Show the native stack of the selected running task"),
         [this] {
             const QStringList keys = m_table->selectedKeys();
             if (!keys.isEmpty())
                 showTaskStack(this, m_bridge->client(), keys.front());
         }},
        {"filter",
         "filter",
         tr("&Filter futures"),
         QKeySequence::Find,
         tr("Filter the futures table"),
         [this] { m_table->focusFilter(); }},
        {"showErrors",
         "",
         tr("Show &errors only"),
         QKeySequence(Qt::CTRL | Qt::Key_E),
         tr("Show only failed futures"),
         [this] { m_table->setStatusFilter(int(FutureStatus::Error)); }},
        {"showAll",
         "",
         tr("Show all &futures"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
         tr("Clear the futures filters"),
         [this] {
             m_table->setStatusFilter(-1);
             m_table->filterEdit()->clear();
         }},
        {"resetLayout",
         "",
         tr("Reset &layout"),
         QKeySequence(),
         tr("Restore the default dock layout"),
         [this] { resetLayout(); }},
        {"copyWorkerCommand",
         "",
         tr("Copy &worker command"),
         QKeySequence(),
         tr("Copy the command that starts a remote worker for this cluster (when it listens "
            "for workers)"),
         [this] {
             m_workersPanel->copyWorkerCommand();
             statusBar()->showMessage(tr("Copied: %1").arg(m_workersPanel->workerCommand()), 5000);
         }},
        {"clearResultCache",
         "",
         tr("Clear result &cache…"),
         QKeySequence(),
         tr("Delete every cached result (pure tasks are computed again)"),
         [this] { m_cacheBox->confirmAndClear(); }},
        {"about",
         "",
         tr("&About Taskbench"),
         QKeySequence(),
         tr("About Taskbench"),
         [this] {
             QMessageBox::about(
                 this,
                 tr("About Taskbench"),
                 tr("<b>Taskbench</b> %1<br>A native workbench for futures-style parallel "
                    "computing.")
                     .arg(QApplication::applicationVersion()));
         }},
    };
    std::map<std::string, QAction *> made;
    for (const ActionSpec &spec : specs)
        made.emplace(spec.name, makeAction(this, spec));
    // Lists of action names; "" is a separator.
    auto add = [&made](QWidget *to, std::initializer_list<const char *> names) {
        for (const char *name : names) {
            if (*name) {
                to->addAction(made.at(name));
                continue;
            }
            auto *separator = new QAction(to);
            separator->setSeparator(true);
            to->addAction(separator);
        }
    };
    made.at("copyWorkerCommand")->setEnabled(false);
    // Delete and Ctrl+C must not steal keys from text fields: Qt gives a focused line edit
    // the shortcut override first, so these only act when the table (or no editor) has focus.
    made.at("release")->setShortcutContext(Qt::WindowShortcut);

    add(menuBar()->addMenu(tr("&File")),
        {"loadPlugin",
         "reloadPlugins",
         "",
         "settings",
         "copyWorkerCommand",
         "clearResultCache",
         "",
         "quit"});
    QMenu *tasks = menuBar()->addMenu(tr("&Tasks"));
    add(tasks,
        {"submit",
         "map",
         "",
         "retry",
         "retryAll",
         "cancel",
         "release",
         "",
         "copyResult",
         "details",
         "showStack"});
    // Paths through the run: the critical path, and a stream task's upstream/downstream.
    m_paths = new PathHighlights(m_futures, m_graph, m_stream, this);
    connect(m_paths, &PathHighlights::taskSelected, this, [this](quint64 id) {
        selectTasks({id}, m_paths);
    });
    tasks->addAction(m_paths->criticalPathAction());
    // Replaying a recorded task (a failure, mostly) in the foreground.
    m_replay = new ReplayActions(m_futures, m_table, m_recorder, this);
    connect(m_replay, &ReplayActions::message, this, [this](const QString &text) {
        setLabelText(m_lastAction, text);
    });
    tasks->addSeparator();
    tasks->addActions(m_replay->actions());
    m_errors->view()->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_errors->view()->addActions(m_replay->actions());
    // Steering the running cluster: its own menu, Pause on the toolbar, the selection's
    // actions in the table's context menu.
    m_steering = new SteeringActions(m_bridge, m_futures, m_table, this);
    // What steering did stays readable (and is announced) in "Last action".
    connect(m_steering, &SteeringActions::message, this, [this](const QString &text) {
        setLabelText(m_lastAction, text);
    });
    // Where a task is seen running, it can be killed (the views' selection is the table's).
    m_stream->addTaskActions({m_steering->killAction()});
    m_graph->addTaskActions({m_steering->killAction()});
    QMenu *cluster = menuBar()->addMenu(tr("&Cluster"));
    for (QAction *a : m_steering->actions()) {
        if (a)
            cluster->addAction(a);
        else
            cluster->addSeparator();
    }
    QMenu *view = menuBar()->addMenu(tr("&View"));
    add(view, {"filter", "showErrors", "showAll", ""});
    for (QDockWidget *d : findChildren<QDockWidget *>())
        view->addAction(d->toggleViewAction());
    // The inspect views come and go often enough to deserve keys.
    const std::pair<const char *, QKeySequence> dockKeys[] = {
        {"graphDock", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G)},
        {"streamDock", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T)},
        {"workersDock", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W)},
        {"historyDock", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_H)},
    };
    for (const auto &[name, key] : dockKeys)
        if (QDockWidget *d = dock(QString::fromLatin1(name))) {
            d->toggleViewAction()->setShortcut(key);
            addAction(d->toggleViewAction());
        }
    add(view, {"", "resetLayout"});
    m_viewMenu = view;
    add(menuBar()->addMenu(tr("&Help")), {"about"});

    QToolBar *tb = addToolBar(tr("Main"));
    tb->setObjectName(QStringLiteral("mainToolBar"));
    tb->setAccessibleName(tr("Main toolbar"));
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->setIconSize(QSize(18, 18));
    tb->setMovable(false);
    add(tb,
        {"submit",
         "map",
         "",
         "retry",
         "retryAll",
         "cancel",
         "release",
         "",
         "copyResult",
         "details",
         ""});
    tb->addAction(m_steering->pauseAction());
    auto *spacer = new QWidget(tb);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    tb->addWidget(spacer);
    add(tb, {"loadPlugin", "settings"});
    for (QAction *a : tb->actions())
        if (QWidget *w = tb->widgetForAction(a); w && !a->text().isEmpty())
            w->setAccessibleName(a->text().remove(QLatin1Char('&')).remove(QStringLiteral("…")));

    // The table's context menu offers the selection actions.
    QTableView *tv = m_table->view();
    tv->setContextMenuPolicy(Qt::ActionsContextMenu);
    add(tv, {"details", "showStack", "retry", "cancel", "release", "copyResult", ""});
    tv->addActions(m_steering->selectionActions());
    tv->addActions(m_replay->actions());
}

} // namespace taskbench::gui
