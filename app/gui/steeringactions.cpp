// Steering actions (see steeringactions.h).
#include "steeringactions.h"

#include "accessibletext.h"
#include "actionspec.h"
#include "breakpointdialog.h"
#include "editretrydialog.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"

#include "taskbench/client.h"

#include <QAction>
#include <QHash>
#include <QLabel>
#include <QPointer>
#include <QSet>
#include <QWidget>

namespace taskbench::gui {

namespace {

QString keysOf(const std::vector<Future> &futures)
{
    return futures.size() == 1 ? QString::fromStdString(futures.front().key())
                               : QObject::tr("%n task(s)", nullptr, int(futures.size()));
}

} // namespace

SteeringActions::SteeringActions(EngineBridge *bridge,
                                 FuturesModel *futures,
                                 FuturesTable *table,
                                 QWidget *window)
    : QObject(window)
    , m_bridge(bridge)
    , m_futures(futures)
    , m_table(table)
    , m_window(window)
{
    m_pool.setMaxThreadCount(1); // in the order the user acted
    // Above everything queued now; among themselves in the table's order.
    const Work raiseAll = [](Client &c, const std::vector<Future> &fs) {
        const int top = c.runNext(fs.front());
        c.setPriority(fs, top);
        return tr("Priority %1 for %2").arg(top).arg(keysOf(fs));
    };
    const ActionSpec specs[] = {
        {"pauseCluster",
         "",
         tr("Pause cluster"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P),
         tr("Pause: running tasks finish, nothing new starts until resumed"),
         {}}, // a toggle: connected below
        {"pauseNow",
         "",
         tr("Pause now"),
         QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_P),
         tr("Pause, and stop the running tasks: they are queued again without counting a "
            "failure"),
         [this] { pauseNow(); }},
        {"breakOnFunction",
         "",
         tr("Break on function"),
         QKeySequence(Qt::CTRL | Qt::Key_B),
         tr("Hold every task of the selected futures' functions before it starts"),
         [this] { breakOnSelectedFunctions(); }},
        {"addBreakpoint",
         "",
         tr("Add breakpoint…"),
         QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_B),
         tr("Hold tasks by function, key or group, optionally only retries"),
         [this] { addBreakpoint(); }},
        {"removeBreakpoints",
         "",
         tr("Remove breakpoints"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_B),
         tr("Remove every breakpoint (held tasks stay held)"),
         [this] {
             run(
                 [](Client &c, const std::vector<Future> &) {
                     int n = 0;
                     for (const Breakpoint &b : c.breakpoints())
                         n += c.removeBreakpoint(b.id) ? 1 : 0;
                     return tr("Removed %n breakpoint(s)", nullptr, n);
                 },
                 false);
         }},
        {"releaseHeld",
         "",
         tr("Release held"),
         QKeySequence(Qt::CTRL | Qt::Key_J),
         tr("Let the selected held tasks run"),
         [this] {
             run([](Client &c, const std::vector<Future> &fs) {
                 return tr("Released %n held task(s)", nullptr, int(c.release(fs)));
             });
         }},
        {"releaseAllHeld",
         "",
         tr("Release all held"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_J),
         tr("Let every held task run"),
         [this] {
             run(
                 [](Client &c, const std::vector<Future> &) {
                     return tr("Released %n held task(s)", nullptr, int(c.releaseAll()));
                 },
                 false);
         }},
        {"editHeldArguments",
         "",
         tr("Edit held arguments…"),
         QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_E),
         tr("Show the selected held task's arguments with its inputs' values, change them and "
            "release it"),
         [this] { editHeldArguments(); }},
        {"stepHeld",
         "",
         tr("Step"),
         QKeySequence(Qt::Key_F10),
         tr("Let the task held first run"),
         [this] {
             run(
                 [](Client &c, const std::vector<Future> &) {
                     const Future f = c.step();
                     return f.valid() ? tr("Released %1").arg(QString::fromStdString(f.key()))
                                      : tr("No task is held");
                 },
                 false);
         }},
        {"raisePriority",
         "",
         tr("Raise priority"),
         QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_Up),
         tr("Raise the priority of the selected tasks that have not started"),
         [this, raiseAll] { run(raiseAll); }},
        {"raiseGroupPriority",
         "",
         tr("Raise group priority"),
         QKeySequence(Qt::CTRL | Qt::ALT | Qt::SHIFT | Qt::Key_Up),
         tr("Raise the priority of every task not started in the selected futures' groups (a "
            "whole map)"),
         [this, raiseAll] { raiseSelectedGroups(raiseAll); }},
        {"runNext",
         "",
         tr("Run next"),
         QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N),
         tr("Run the selected task before every queued one"),
         [this] {
             run([](Client &c, const std::vector<Future> &fs) {
                 return tr("%1 runs next (priority %2)")
                     .arg(keysOf({fs.front()}))
                     .arg(c.runNext(fs.front()));
             });
         }},
        {"killNow",
         "",
         tr("Kill now"),
         QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_K),
         tr("Kill the selected running task's process worker now (it is restarted)"),
         [this] {
             run([](Client &c, const std::vector<Future> &fs) {
                 std::string why;
                 return c.killNow(fs.front(), &why)
                            ? tr("Killed %1 (its worker restarts)").arg(keysOf({fs.front()}))
                            : tr("Not killed: %1").arg(QString::fromStdString(why));
             });
         }},
    };
    // The table is in menu order; a separator follows these. Then the actions that act on
    // the selected futures (also in the table's context menu).
    const QSet<QString> separatorAfter = {QStringLiteral("pauseNow"), QStringLiteral("stepHeld")};
    const QSet<QString> onSelection = {QStringLiteral("breakOnFunction"),
                                       QStringLiteral("releaseHeld"),
                                       QStringLiteral("editHeldArguments"),
                                       QStringLiteral("raisePriority"),
                                       QStringLiteral("raiseGroupPriority"),
                                       QStringLiteral("runNext"),
                                       QStringLiteral("killNow")};
    QHash<QString, QAction *> made;
    for (const ActionSpec &spec : specs) {
        QAction *a = makeAction(window, spec, this);
        made.insert(a->objectName(), a);
        m_actions << a;
        if (onSelection.contains(a->objectName()))
            m_selection << a;
        if (separatorAfter.contains(a->objectName()))
            m_actions << nullptr;
    }
    m_pause = made.value(QStringLiteral("pauseCluster"));
    m_pause->setCheckable(true);
    m_kill = made.value(QStringLiteral("killNow"));
    m_kill->setEnabled(false);

    m_status = new QLabel(window);
    m_status->setAccessibleName(tr("Cluster paused"));

    connect(m_pause, &QAction::toggled, this, [this](bool on) {
        setPausedShown(on);
        run(
            [on](Client &c, const std::vector<Future> &) {
                on ? c.pause() : c.resume();
                return on ? tr("Cluster paused: running tasks finish, nothing new starts")
                          : tr("Cluster resumed");
            },
            false);
    });
    connect(table, &FuturesTable::selectionChanged, this, &SteeringActions::updateKillEnabled);
    connect(bridge, &EngineBridge::frameApplied, this, &SteeringActions::updateKillEnabled);
    connect(bridge, &EngineBridge::workersChanged, this, &SteeringActions::updateKillEnabled);
    // A new cluster starts running.
    connect(bridge, &EngineBridge::clusterStarted, this, [this] {
        const QSignalBlocker block(m_pause);
        m_pause->setChecked(false);
        setPausedShown(false);
    });
}

void SteeringActions::pauseNow()
{
    {
        const QSignalBlocker block(m_pause);
        m_pause->setChecked(true);
    }
    setPausedShown(true);
    run(
        [](Client &c, const std::vector<Future> &) {
            c.pause(PauseMode::Now);
            return tr("Cluster paused: running tasks stopped and queued again");
        },
        false);
}

void SteeringActions::breakOnSelectedFunctions()
{
    run([](Client &c, const std::vector<Future> &fs) {
        QStringList added;
        for (const Future &f : fs) {
            const QString fn = QString::fromStdString(f.function());
            if (added.contains(fn) || fn == QLatin1String("scatter"))
                continue;
            Breakpoint b;
            b.pattern = f.function();
            c.addBreakpoint(b);
            added << fn;
        }
        return tr("Breakpoint on %1").arg(added.join(QStringLiteral(", ")));
    });
}

void SteeringActions::raiseSelectedGroups(const Work &raise)
{
    QSet<QString> groups;
    for (std::uint64_t id : m_table->selectedIds())
        if (const FutureRow *row = m_futures->row(id))
            groups.insert(row->group);
    std::vector<std::uint64_t> ids;
    for (const FutureRow &r : m_futures->rows())
        if ((r.status == FutureStatus::Pending || r.status == FutureStatus::Held)
            && groups.contains(r.group))
            ids.push_back(r.id);
    if (!groups.isEmpty() && ids.empty()) {
        emit message(tr("Every task of that group has started"));
        return;
    }
    run(raise, true, ids);
}

void SteeringActions::updateKillEnabled()
{
    const std::vector<std::uint64_t> ids = m_table->selectedIds();
    const FutureRow *row = ids.size() == 1 ? m_futures->row(ids.front()) : nullptr;
    m_kill->setEnabled(row && row->status == FutureStatus::Processing
                       && m_bridge->isKillableWorker(row->worker));
}

SteeringActions::~SteeringActions()
{
    m_pool.waitForDone();
}

void SteeringActions::addBreakpoint()
{
    BreakpointDialog::Suggestions suggestions;
    const std::vector<std::uint64_t> ids = m_table->selectedIds();
    if (const FutureRow *row = ids.empty() ? nullptr : m_futures->row(ids.front())) {
        suggestions.key = row->key;
        suggestions.function = row->function;
        suggestions.group = row->group;
    }
    auto *dialog = new BreakpointDialog(suggestions, m_window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        run(
            [b = dialog->breakpoint()](Client &c, const std::vector<Future> &) {
                Breakpoint added = b;
                added.id = c.addBreakpoint(b);
                return tr("Breakpoint: %1").arg(QString::fromStdString(added.describe()));
            },
            false);
    });
    dialog->open();
}

void SteeringActions::editHeldArguments()
{
    const std::vector<std::uint64_t> ids = m_table->selectedIds();
    const FutureRow *row = ids.size() == 1 ? m_futures->row(ids.front()) : nullptr;
    if (!row || row->status != FutureStatus::Held) {
        emit message(tr("Select one held future first"));
        return;
    }
    const std::shared_ptr<Client> client = m_bridge->client();
    const std::vector<Future> futures = m_bridge->futures(ids);
    if (!client || futures.empty())
        return;
    const QString key = row->key;
    const FunctionPtr function = m_bridge->catalog()->function(row->function);
    QPointer<SteeringActions> self(this);
    // Inputs held by process workers are fetched: off the GUI thread; the dialog opens after.
    m_pool.start([self, client, f = futures.front(), key, function] {
        std::vector<Value> args;
        QString error;
        try {
            args = client->resolvedArguments(f);
        } catch (const std::exception &e) {
            error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            self,
            [self, f, key, function, args = std::move(args), error] {
                if (!self)
                    return;
                if (!error.isEmpty()) {
                    emit self->message(error);
                    return;
                }
                self->openHeldEditor(f, key, function, args);
            },
            Qt::QueuedConnection);
    });
}

void SteeringActions::openHeldEditor(const Future &held,
                                     const QString &key,
                                     const FunctionPtr &function,
                                     const std::vector<Value> &args)
{
    auto *dialog = new EditRetryDialog(
        key, QString(), function, args, 0, m_window, EditRetryDialog::ReleaseHeld);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, held, key] {
        run(
            [held, key, args = dialog->arguments()](Client &c, const std::vector<Future> &) {
                c.setArguments(held, args);
                c.release({held});
                return tr("Released %1 with the edited arguments").arg(key);
            },
            false);
    });
    dialog->open();
}

void SteeringActions::setPausedShown(bool paused)
{
    m_pause->setText(paused ? tr("Resume cluster") : tr("Pause cluster"));
    setLabelText(m_status, paused ? tr("paused") : QString());
    m_status->setVisible(paused);
}

void SteeringActions::run(Work work,
                          bool needsSelection,
                          std::optional<std::vector<std::uint64_t>> ids)
{
    const std::shared_ptr<Client> client = m_bridge->client();
    if (!client) {
        emit message(tr("No cluster is running"));
        return;
    }
    std::vector<Future> futures = m_bridge->futures(ids ? *ids : m_table->selectedIds());
    if (needsSelection && futures.empty()) {
        emit message(tr("Select one or more futures first"));
        return;
    }
    QPointer<SteeringActions> self(this);
    m_pool.start([self, client, futures = std::move(futures), work = std::move(work)] {
        QString text;
        try {
            text = work(*client, futures);
        } catch (const std::exception &e) {
            text = QString::fromStdString(e.what());
        }
        if (self)
            QMetaObject::invokeMethod(
                self,
                [self, text] {
                    if (self)
                        emit self->message(text);
                },
                Qt::QueuedConnection);
    });
}

} // namespace taskbench::gui
