// HistoryPanel: browsing, searching, replaying, re-running, exporting and deleting recorded
// sessions (see historypanel.h). Each database access opens its own connection on a pool
// thread and posts the answer back; a generation counter drops answers that came too late.
#include "historypanel.h"

#include "accessibletext.h"

#include "comparewindow.h"
#include "enginebridge.h"
#include "exportformatpath.h"
#include "guirecorder.h"
#include "historymodels.h"
#include "resultcachebox.h"
#include "sessionwindow.h"

#include "taskbench/history/compare.h"
#include "taskbench/history/exporters.h"
#include "taskbench/history/historystore.h"
#include "taskbench/history/rerun.h"

#include <QAction>
#include <QCheckBox>
#include <QCoreApplication>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QThreadPool>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>
#include <memory>

namespace taskbench::gui {

namespace {

/// The most tasks the panel lists for one session (the exports have them all).
constexpr int kTaskListLimit = 20000;

/// Runs `work(store)` on a thread of the panel's own pool (its destruction waits for it, so
/// no query outlives the panel and the application), with a fresh connection and hands its answer
/// (or the open error) to `done` on the GUI thread, if `context` still exists.
template <class T>
void inBackground(QThreadPool &pool,
                  QObject *context,
                  const QString &path,
                  std::function<T(history::HistoryStore &)> work,
                  std::function<void(T, QString)> done)
{
    QPointer<QObject> guard(context);
    pool.start([guard, path, work, done] {
        T answer{};
        QString error;
        {
            history::HistoryStore store;
            if (store.open(path.toStdString()))
                answer = work(store);
            else
                error = QString::fromStdString(store.errorString());
        }
        QMetaObject::invokeMethod(
            guard.data() ? guard.data() : QCoreApplication::instance(),
            [guard, done, answer = std::move(answer), error]() mutable {
                if (guard)
                    done(std::move(answer), error);
            },
            Qt::QueuedConnection);
    });
}

QTableView *makeTable(QAbstractItemModel *model, const QString &name, QWidget *parent)
{
    auto *view = new QTableView(parent);
    view->setModel(model);
    view->setAccessibleName(name);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->setTabKeyNavigation(false);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    return view;
}

QPushButton *makeButton(const QString &text, const QString &name, QWidget *parent)
{
    auto *b = new QPushButton(text, parent);
    b->setAccessibleName(name);
    return b;
}

} // namespace

HistoryPanel::HistoryPanel(EngineBridge *bridge, GuiRecorder *recorder, QWidget *parent)
    : QWidget(parent)
    , m_bridge(bridge)
    , m_recorder(recorder)
    , m_path(GuiRecorder::databasePath())
{
    setAccessibleName(tr("History panel"));
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Search by function, key, status or error..."));
    m_search->setAccessibleName(tr("Search history"));
    m_search->setClearButtonEnabled(true);
    auto *searchLabel = new QLabel(tr("&Search:"), this);
    searchLabel->setBuddy(m_search);
    m_searchTimer = new QTimer(this);
    m_searchTimer->setSingleShot(true);
    m_searchTimer->setInterval(250);
    connect(m_search, &QLineEdit::textChanged, m_searchTimer, qOverload<>(&QTimer::start));
    connect(m_searchTimer, &QTimer::timeout, this, &HistoryPanel::refresh);

    m_sessions = new SessionsModel(this);
    m_sessionsView = makeTable(m_sessions, tr("History"), this);
    // Two selected sessions can be compared (Ctrl or Shift with the arrows, or the mouse).
    m_sessionsView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tasks = new HistoryTasksModel(this);
    m_taskFilter = new QSortFilterProxyModel(this);
    m_taskFilter->setSourceModel(m_tasks);
    m_taskFilter->setFilterKeyColumn(-1);
    m_taskFilter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_tasksView = makeTable(m_taskFilter, tr("Session tasks"), this);
    m_tasksView->setSortingEnabled(true);
    m_tasksLabel = new QLabel(this);
    m_tasksLabel->setAccessibleName(tr("Session tasks summary"));

    m_open = makeButton(tr("&Open"), tr("Open session"), this);
    m_open->setToolTip(tr("Show the session read-only in the futures, graph and stream views"));
    m_rerun = makeButton(tr("&Re-run"), tr("Re-run"), this);
    m_rerun->setToolTip(
        tr("Run the selected tasks (all, if none is selected) again in the current cluster"));
    m_rerunFailed = makeButton(tr("Re-run &failed"), tr("Re-run failed"), this);
    m_rerunFailed->setToolTip(tr("Run every failed task of the session again"));
    m_export = makeButton(tr("E&xport..."), tr("Export…"), this);
    m_export->setToolTip(tr("Save the session as a Perfetto trace, CSV or JSON"));
    m_compare = makeButton(tr("Co&mpare"), tr("Compare sessions"), this);
    m_compare->setToolTip(tr("Select two sessions: compare their tasks' statuses, durations, "
                             "results and errors"));
    m_delete = makeButton(tr("&Delete session"), tr("Delete session"), this);
    m_refresh = makeButton(tr("Refres&h"), tr("Refresh history"), this);

    m_record = new QCheckBox(tr("Record &sessions"), this);
    m_record->setAccessibleName(tr("Record sessions"));
    m_record->setChecked(GuiRecorder::recordingEnabled());
    m_record->setToolTip(tr("Takes effect when the next cluster starts"));
    m_keepSessions = new QSpinBox(this);
    m_keepSessions->setRange(0, 100000);
    m_keepSessions->setSpecialValueText(tr("all"));
    m_keepSessions->setValue(GuiRecorder::keepSessions());
    m_keepSessions->setAccessibleName(tr("Keep sessions"));
    m_keepDays = new QSpinBox(this);
    m_keepDays->setRange(0, 36500);
    m_keepDays->setSpecialValueText(tr("no limit"));
    m_keepDays->setSuffix(tr(" days"));
    m_keepDays->setValue(GuiRecorder::keepDays());
    m_keepDays->setAccessibleName(tr("Keep days"));
    connect(
        m_record, &QCheckBox::toggled, this, [](bool on) { GuiRecorder::setRecordingEnabled(on); });
    const auto saveRetention
        = [this] { GuiRecorder::setRetention(m_keepSessions->value(), m_keepDays->value()); };
    connect(m_keepSessions, &QSpinBox::valueChanged, this, saveRetention);
    connect(m_keepDays, &QSpinBox::valueChanged, this, saveRetention);

    auto *top = new QHBoxLayout;
    top->addWidget(searchLabel);
    top->addWidget(m_search, 1);
    top->addWidget(m_refresh);
    auto *buttons = new QHBoxLayout;
    for (QPushButton *b : {m_open, m_rerun, m_rerunFailed, m_export, m_compare, m_delete})
        buttons->addWidget(b);
    buttons->addStretch(1);
    auto *settings = new QHBoxLayout;
    settings->addWidget(m_record);
    auto *keepLabel = new QLabel(tr("&Keep:"), this);
    keepLabel->setBuddy(m_keepSessions);
    settings->addWidget(keepLabel);
    settings->addWidget(m_keepSessions);
    auto *daysLabel = new QLabel(tr("sessions, or &younger than"), this);
    daysLabel->setBuddy(m_keepDays);
    settings->addWidget(daysLabel);
    settings->addWidget(m_keepDays);
    settings->addStretch(1);

    auto *lower = new QWidget(this);
    auto *lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(m_tasksLabel);
    lowerLayout->addWidget(m_tasksView, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_sessionsView);
    split->addWidget(lower);

    // The panel shares the bottom dock strip: inside a scroll area its minimum size stays
    // small (the rows' combined minimum would make the strip tall and squeeze Progress).
    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    layout->addLayout(buttons);
    layout->addLayout(settings);
    m_contentLayout = layout;
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setAccessibleName(tr("History sessions and tasks"));
    scroll->setWidget(content);
    scroll->setMinimumSize(160, 90);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
    setFocusProxy(m_search);

    connect(m_sessionsView->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        loadTasks();
        updateActions();
    });
    connect(m_tasksView->selectionModel(),
            &QItemSelectionModel::selectionChanged,
            this,
            &HistoryPanel::updateActions);
    connect(m_sessionsView, &QTableView::activated, this, [this](const QModelIndex &index) {
        if (const history::SessionSummary *s = m_sessions->session(index.row()))
            openSession(s->id);
    });
    connect(m_open, &QPushButton::clicked, this, [this] {
        if (selectedSession() > 0)
            openSession(selectedSession());
    });
    connect(m_rerun, &QPushButton::clicked, this, [this] { rerunSelected(false); });
    connect(m_rerunFailed, &QPushButton::clicked, this, [this] { rerunSelected(true); });
    connect(m_export, &QPushButton::clicked, this, &HistoryPanel::exportSelected);
    connect(m_compare, &QPushButton::clicked, this, [this] {
        const std::vector<std::int64_t> two = selectedSessions();
        if (two.size() == 2)
            compareSessions(two[0], two[1]);
    });
    connect(m_delete, &QPushButton::clicked, this, &HistoryPanel::deleteSelected);
    connect(m_refresh, &QPushButton::clicked, this, &HistoryPanel::refresh);

    auto *deleteAction = new QAction(tr("Delete session"), this);
    deleteAction->setShortcut(QKeySequence::Delete);
    deleteAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(deleteAction, &QAction::triggered, this, &HistoryPanel::deleteSelected);
    m_sessionsView->addAction(deleteAction);
    auto *refreshAction = new QAction(tr("Refresh history"), this);
    refreshAction->setShortcut(QKeySequence::Refresh);
    refreshAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(refreshAction, &QAction::triggered, this, &HistoryPanel::refresh);
    addAction(refreshAction);

    if (m_recorder) {
        connect(m_recorder, &GuiRecorder::sessionStarted, this, &HistoryPanel::refresh);
        connect(m_recorder, &GuiRecorder::sessionFinished, this, &HistoryPanel::refresh);
        connect(m_recorder, &GuiRecorder::message, this, &HistoryPanel::message);
    }
    updateActions();
    refresh();
}

void HistoryPanel::setDatabasePath(const QString &path)
{
    m_path = path;
    refresh();
}

std::int64_t HistoryPanel::selectedSession() const
{
    const std::vector<std::int64_t> ids = selectedSessions();
    return ids.size() == 1 ? ids.front() : 0;
}

std::vector<std::int64_t> HistoryPanel::selectedSessions() const
{
    std::vector<std::int64_t> ids;
    for (const QModelIndex &row : m_sessionsView->selectionModel()->selectedRows())
        if (const history::SessionSummary *s = m_sessions->session(row.row()))
            ids.push_back(s->id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

void HistoryPanel::compareSessions(std::int64_t a, std::int64_t b)
{
    struct Answer
    {
        std::optional<history::SessionComparison> comparison;
        std::string error;
    };
    inBackground<std::shared_ptr<Answer>>(
        m_pool,
        this,
        m_path,
        [a, b](history::HistoryStore &store) {
            auto answer = std::make_shared<Answer>();
            answer->comparison = history::compareSessions(store, a, b, &answer->error);
            return answer;
        },
        [this](std::shared_ptr<Answer> answer, QString error) {
            if (!answer || !answer->comparison) {
                emit message(tr("History: %1")
                                 .arg(error.isEmpty() && answer
                                          ? QString::fromStdString(answer->error)
                                          : error));
                return;
            }
            auto *window = new CompareWindow(std::move(*answer->comparison), this);
            connect(window, &CompareWindow::message, this, &HistoryPanel::message);
            window->show();
            emit compareOpened(window);
        });
}

void HistoryPanel::updateActions()
{
    const bool has = selectedSession() > 0;
    const bool cluster = m_bridge && m_bridge->isRunning();
    m_open->setEnabled(has);
    m_export->setEnabled(has);
    m_delete->setEnabled(has);
    m_compare->setEnabled(selectedSessions().size() == 2);
    m_rerun->setEnabled(has && cluster);
    m_rerunFailed->setEnabled(has && cluster);
}

ResultCacheBox *HistoryPanel::addResultCache(GuiResultCache *cache)
{
    auto *box = new ResultCacheBox(cache, this);
    m_contentLayout->addWidget(box);
    connect(box, &ResultCacheBox::message, this, &HistoryPanel::message);
    // A session's end may have stored results.
    if (m_recorder)
        connect(m_recorder, &GuiRecorder::sessionFinished, box, &ResultCacheBox::refresh);
    return box;
}

void HistoryPanel::refresh()
{
    const int generation = ++m_generation;
    const std::vector<std::int64_t> keep = selectedSessions();
    history::SessionQuery query;
    query.text = m_search->text().trimmed().toStdString();
    inBackground<std::vector<history::SessionSummary>>(
        m_pool,
        this,
        m_path,
        [query](history::HistoryStore &store) { return store.sessions(query); },
        [this, generation, keep](std::vector<history::SessionSummary> sessions, QString error) {
            if (generation != m_generation)
                return;
            if (!error.isEmpty())
                emit message(tr("History: %1").arg(error));
            m_sessions->setSessions(std::move(sessions));
            for (int row = 0; row < m_sessions->rowCount(); ++row)
                if (std::find(keep.begin(), keep.end(), m_sessions->session(row)->id) != keep.end())
                    m_sessionsView->selectionModel()->select(m_sessions->index(row, 0),
                                                             QItemSelectionModel::Select
                                                                 | QItemSelectionModel::Rows);
            if (selectedSession() == 0) {
                m_tasks->setTasks({});
                setLabelText(m_tasksLabel,
                             m_sessions->rowCount() == 0 ? tr("No recorded sessions.")
                             : selectedSessions().size() == 2
                                 ? tr("Two sessions selected: Compare shows them side "
                                      "by side.")
                                 : tr("Select a session."));
            }
            m_taskFilter->setFilterFixedString(m_search->text().trimmed());
            updateActions();
            ++m_loads;
            emit loaded();
        });
}

void HistoryPanel::loadTasks()
{
    const std::int64_t session = selectedSession();
    if (session <= 0) {
        if (selectedSessions().size() == 2) {
            ++m_taskGeneration; // drops a load still on its way
            m_tasks->setTasks({});
            setLabelText(m_tasksLabel,
                         tr("Two sessions selected: Compare shows them side by side."));
        }
        return;
    }
    const int generation = ++m_taskGeneration;
    history::TaskQuery query;
    query.session = session;
    query.limit = kTaskListLimit;
    inBackground<std::vector<history::TaskRecord>>(
        m_pool,
        this,
        m_path,
        [query](history::HistoryStore &store) { return store.tasks(query); },
        [this, generation, session](std::vector<history::TaskRecord> tasks, QString error) {
            if (generation != m_taskGeneration)
                return;
            if (!error.isEmpty())
                emit message(tr("History: %1").arg(error));
            const history::SessionSummary *s = nullptr;
            for (int row = 0; row < m_sessions->rowCount(); ++row)
                if (m_sessions->session(row)->id == session)
                    s = m_sessions->session(row);
            const qint64 total = s ? s->taskCount : qint64(tasks.size());
            setLabelText(
                m_tasksLabel,
                qint64(tasks.size()) < total
                    ? tr("Session %1: showing the first %2 of %3 tasks (export for all)")
                          .arg(session)
                          .arg(tasks.size())
                          .arg(total)
                    : tr("Session %1: %n task(s)", nullptr, int(tasks.size())).arg(session));
            m_tasks->setTasks(std::move(tasks));
            m_taskFilter->setFilterFixedString(m_search->text().trimmed());
            ++m_loads;
            emit loaded();
        });
}

void HistoryPanel::openSession(std::int64_t id)
{
    struct Loaded
    {
        std::optional<history::SessionSummary> session;
        std::vector<history::TaskRecord> tasks;
        std::vector<history::WorkerRecord> workers;
    };
    inBackground<std::shared_ptr<Loaded>>(
        m_pool,
        this,
        m_path,
        [id](history::HistoryStore &store) {
            auto l = std::make_shared<Loaded>();
            l->session = store.session(id);
            history::TaskQuery q;
            q.session = id;
            l->tasks = store.tasks(q);
            l->workers = store.workers(id);
            return l;
        },
        [this, id](std::shared_ptr<Loaded> l, QString error) {
            if (!l || !l->session) {
                emit message(error.isEmpty() ? tr("History: no session %1").arg(id)
                                             : tr("History: %1").arg(error));
                return;
            }
            auto *window = new SessionWindow(*l->session, std::move(l->tasks), l->workers, this);
            window->show();
            emit sessionOpened(window);
        });
}

void HistoryPanel::rerunSelected(bool failedOnly)
{
    const std::int64_t session = selectedSession();
    if (session <= 0 || !m_bridge || !m_bridge->isRunning())
        return;
    std::vector<std::uint64_t> ids;
    if (!failedOnly)
        for (const QModelIndex &i : m_tasksView->selectionModel()->selectedRows())
            ids.push_back(i.data(HistoryTasksModel::IdRole).toULongLong());
    std::shared_ptr<FunctionRegistry> registry = m_bridge->catalog()->registry();
    inBackground<std::shared_ptr<history::RerunPlan>>(
        m_pool,
        this,
        m_path,
        [session, ids, failedOnly, registry](history::HistoryStore &store) {
            return std::make_shared<history::RerunPlan>(
                history::planRerun(store, session, ids, failedOnly, *registry));
        },
        [this](std::shared_ptr<history::RerunPlan> plan, QString error) {
            QStringList problems;
            if (!error.isEmpty())
                problems << error;
            if (plan)
                for (const std::string &p : plan->problems)
                    problems << QString::fromStdString(p);
            if (!problems.isEmpty() || !plan || plan->calls.empty()) {
                if (problems.isEmpty())
                    problems << tr("Nothing to re-run.");
                emit rerunRefused(problems);
                QMessageBox box(QMessageBox::Warning,
                                tr("Cannot re-run"),
                                tr("These tasks cannot be re-run as recorded:"),
                                QMessageBox::Ok,
                                this);
                box.setInformativeText(problems.mid(0, 10).join('\n'));
                if (problems.size() > 10)
                    box.setDetailedText(problems.join('\n'));
                box.setAccessibleName(tr("Cannot re-run"));
                box.exec();
                return;
            }
            // The bridge's submission queue keeps this order: dependencies go first.
            for (const history::RerunCall &c : plan->calls)
                m_bridge->submit(QString::fromStdString(c.function), c.args, c.options);
            emit message(
                tr("Re-running %n task(s) from history", nullptr, int(plan->calls.size())));
            emit rerunSubmitted(int(plan->calls.size()));
        });
}

void HistoryPanel::deleteSelected()
{
    const std::int64_t session = selectedSession();
    if (session <= 0)
        return;
    if (m_recorder && session == m_recorder->sessionId()) {
        emit message(tr("Session %1 is being recorded; it can be deleted once the cluster "
                        "stops")
                         .arg(session));
        return;
    }
    if (QMessageBox::question(this,
                              tr("Delete session"),
                              tr("Delete session %1 and everything recorded for it?").arg(session))
        != QMessageBox::Yes)
        return;
    inBackground<bool>(
        m_pool,
        this,
        m_path,
        [session](history::HistoryStore &store) { return store.deleteSession(session); },
        [this, session](bool ok, QString error) {
            emit message(ok ? tr("Deleted session %1").arg(session)
                            : tr("Could not delete session %1 %2").arg(session).arg(error));
            refresh();
        });
}

void HistoryPanel::exportSelected()
{
    const std::int64_t session = selectedSession();
    if (session <= 0)
        return;
    // The file name's extension picks the format (exportFormatForPath): the default name
    // says Perfetto, and typing "s1.csv" gives a CSV whatever the filter says.
    const QString perfetto = tr("Perfetto / Chrome trace (*.perfetto.json *.trace.json)");
    const QString csv = tr("CSV of the tasks (*.csv)");
    const QString json = tr("Whole session as JSON (*.json)");
    QString filter = perfetto;
    const QString path
        = QFileDialog::getSaveFileName(this,
                                       tr("Export session %1").arg(session),
                                       QStringLiteral("session-%1.perfetto.json").arg(session),
                                       QStringList{perfetto, csv, json}.join(QStringLiteral(";;")),
                                       &filter);
    if (path.isEmpty())
        return;
    const history::ExportFormat format
        = exportFormatForPath(path,
                              filter == csv    ? history::ExportFormat::Csv
                              : filter == json ? history::ExportFormat::Json
                                               : history::ExportFormat::Perfetto);
    inBackground<QString>(
        m_pool,
        this,
        m_path,
        [session, format, path](history::HistoryStore &store) {
            std::string error;
            return history::exportSession(store, session, format, path.toStdString(), &error)
                       ? QString()
                       : QString::fromStdString(error);
        },
        [this, session, path](QString failure, QString error) {
            if (!error.isEmpty())
                failure = error;
            emit message(failure.isEmpty() ? tr("Exported session %1 to %2").arg(session).arg(path)
                                           : tr("Export failed: %1").arg(failure));
        });
}

} // namespace taskbench::gui
