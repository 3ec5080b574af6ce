#include "detailsdialog.h"

#include "workerlabel.h"

#include "accessibletext.h"

#include "enginebridge.h"
#include "futuresmodel.h"
#include "statusstyle.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {

QPlainTextEdit *readOnlyText(QWidget *parent, const QString &name)
{
    auto *t = new QPlainTextEdit(parent);
    t->setReadOnly(true);
    t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    t->setAccessibleName(name);
    t->setLineWrapMode(QPlainTextEdit::NoWrap);
    return t;
}

/// Sets text only when it changed, keeping the scroll position (no jumps on refresh).
void setTextKeepingScroll(QPlainTextEdit *edit, const QString &text)
{
    if (edit->toPlainText() == text)
        return;
    const int v = edit->verticalScrollBar()->value();
    edit->setPlainText(text);
    edit->verticalScrollBar()->setValue(v);
}

QTableWidgetItem *cell(const QString &text)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    return item;
}

} // namespace

DetailsDialog::DetailsDialog(EngineBridge *bridge,
                             FuturesModel *futures,
                             std::uint64_t id,
                             QWidget *parent)
    : QDialog(parent)
    , m_bridge(bridge)
    , m_futures(futures)
    , m_id(id)
{
    setAttribute(Qt::WA_DeleteOnClose);
    setModal(false);
    resize(720, 520);
    auto *layout = new QVBoxLayout(this);

    auto *head = new QHBoxLayout;
    m_icon = new QLabel(this);
    m_title = new QLabel(this);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_title->setAccessibleName(tr("Task"));
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.2);
    big.setBold(true);
    m_title->setFont(big);
    head->addWidget(m_icon);
    head->addWidget(m_title, 1);
    layout->addLayout(head);

    m_tabs = new QTabWidget(this);
    m_tabs->setAccessibleName(tr("Task details"));
    layout->addWidget(m_tabs, 1);

    // Overview: facts, dependencies and dependents.
    auto *overview = new QWidget(m_tabs);
    auto *ol = new QVBoxLayout(overview);
    m_overview = new QLabel(overview);
    m_overview->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_overview->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_overview->setAccessibleName(tr("Overview"));
    ol->addWidget(m_overview);
    auto *lists = new QHBoxLayout;
    auto *depsBox = new QVBoxLayout;
    auto *depsLabel = new QLabel(tr("&Dependencies:"), overview);
    m_deps = new QListWidget(overview);
    m_deps->setAccessibleName(tr("Dependencies"));
    depsLabel->setBuddy(m_deps);
    depsBox->addWidget(depsLabel);
    depsBox->addWidget(m_deps);
    auto *dependentsBox = new QVBoxLayout;
    auto *dependentsLabel = new QLabel(tr("D&ependents:"), overview);
    m_dependents = new QListWidget(overview);
    m_dependents->setAccessibleName(tr("Dependents"));
    dependentsLabel->setBuddy(m_dependents);
    dependentsBox->addWidget(dependentsLabel);
    dependentsBox->addWidget(m_dependents);
    lists->addLayout(depsBox);
    lists->addLayout(dependentsBox);
    ol->addLayout(lists, 1);
    m_tabs->addTab(overview, tr("Overview"));
    for (QListWidget *l : {m_deps, m_dependents}) {
        connect(l, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
            emit openRequested(item->data(Qt::UserRole).toULongLong());
        });
    }

    m_result = readOnlyText(m_tabs, tr("Result"));
    m_tabs->addTab(m_result, tr("Result"));
    m_arguments = readOnlyText(m_tabs, tr("Arguments"));
    m_tabs->addTab(m_arguments, tr("Arguments"));

    m_history = new QTableWidget(0, 6, m_tabs);
    m_history->setAccessibleName(tr("History"));
    m_history->setHorizontalHeaderLabels(
        {tr("Time"), tr("From"), tr("To"), tr("Worker"), tr("Attempt"), tr("Note")});
    m_history->verticalHeader()->hide();
    m_history->horizontalHeader()->setStretchLastSection(true);
    m_history->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_history->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tabs->addTab(m_history, tr("History"));

    m_attempts = new QTreeWidget(m_tabs);
    m_attempts->setAccessibleName(tr("Attempts"));
    m_attempts->setHeaderLabels(
        {tr("Attempt"), tr("Worker"), tr("Started"), tr("Ended"), tr("Duration"), tr("Outcome")});
    m_attempts->setRootIsDecorated(false);
    m_attempts->setUniformRowHeights(true);
    m_tabs->addTab(m_attempts, tr("Attempts"));

    m_logs = readOnlyText(m_tabs, tr("Task log"));
    m_tabs->addTab(m_logs, tr("Log"));
    m_error = readOnlyText(m_tabs, tr("Error"));
    m_error->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_tabs->addTab(m_error, tr("Error"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *refreshButton = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    refreshButton->setAccessibleName(tr("Refresh"));
    buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close"));
    connect(refreshButton, &QPushButton::clicked, this, &DetailsDialog::refresh);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    layout->addWidget(buttons);

    connect(bridge, &EngineBridge::frameApplied, this, &DetailsDialog::onFrame);
    connect(futures, &FuturesModel::dataChanged, this, &DetailsDialog::updateOverview);
    updateOverview();
    refresh();
}

void DetailsDialog::onFrame()
{
    const FutureRow *r = m_futures->row(m_id);
    if (!r)
        return;
    if (int(r->status) != m_lastStatus || r->attempts != m_lastAttempts
        || int(r->state) != m_lastState)
        refresh();
}

void DetailsDialog::refresh()
{
    if (const FutureRow *r = m_futures->row(m_id)) {
        m_lastStatus = int(r->status);
        m_lastAttempts = r->attempts;
        m_lastState = int(r->state);
    }
    if (m_fetching) {
        m_stale = true; // fetch again when this one is back
        return;
    }
    m_fetching = true;
    m_bridge->fetchStory(m_id, this, [this](const TaskStory &s) {
        m_fetching = false;
        applyStory(s);
        if (m_stale) {
            m_stale = false;
            refresh();
        }
    });
}

void DetailsDialog::updateOverview()
{
    const FutureRow *r = m_futures->row(m_id);
    if (!r) {
        setLabelText(m_title, tr("Task %1 (released)").arg(m_id));
        return;
    }
    setWindowTitle(tr("Details — %1").arg(r->key));
    setLabelText(m_title, r->key);
    m_icon->setPixmap(statusIcon(r->status).pixmap(24, 24));
    m_icon->setToolTip(statusLabel(r->status));
    const std::int64_t dur = r->endUs > 0 && r->startUs > 0 ? r->endUs - r->startUs : -1;
    QString html = QStringLiteral("<table cellspacing=4>");
    QStringList spoken; // one "Name: value" line per row for screen readers
    auto row = [&html, &spoken](const QString &k, const QString &v) {
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(k, v.toHtmlEscaped());
        spoken << QStringLiteral("%1: %2").arg(k, v);
    };
    row(tr("Status"),
        statusLabel(r->status)
            + QStringLiteral(" (%1)").arg(QString::fromLatin1(toString(r->state))));
    row(tr("Function"), r->function);
    row(tr("Group"), r->group);
    row(tr("Type"), r->type);
    row(tr("Result"),
        r->status == FutureStatus::Error ? r->errorType() + QStringLiteral(": ") + r->errorMessage()
                                         : r->preview);
    row(tr("Worker"), workerLabel(r->worker));
    row(tr("Attempts"), QString::number(r->attempts));
    row(tr("Started"), formatTime(r->startUs));
    row(tr("Duration"), dur >= 0 ? formatDuration(dur) : QString());
    // The last attempt's, as its worker measured them (thread workers: no memory or CPU).
    const QString unknown = tr("unknown");
    row(tr("Peak memory"),
        r->peakRssBytes >= 0 ? formatBytes(std::uint64_t(r->peakRssBytes)) : unknown);
    row(tr("CPU time"), r->cpuUs >= 0 ? formatDuration(r->cpuUs) : unknown);
    row(tr("Result size"),
        r->resultBytes >= 0 ? formatBytes(std::uint64_t(r->resultBytes)) : unknown);
    if (r->fromDependency)
        row(tr("Root cause"), r->rootKey());
    html += QStringLiteral("</table>");
    setLabelText(m_overview, html, spoken.join(QLatin1Char('\n')));

    auto fill = [this](QListWidget *list, const std::vector<std::uint64_t> &ids) {
        if (ids.empty()) {
            if (list->count() != 1 || list->item(0)->data(Qt::UserRole).toULongLong() != 0) {
                list->clear();
                auto *none = new QListWidgetItem(tr("(none)"), list);
                none->setFlags(Qt::NoItemFlags);
            }
            return;
        }
        if (list->count() == int(ids.size())
            && list->item(0)->data(Qt::UserRole).toULongLong() != 0) {
            // Same tasks: refresh icons only (no reset, no jump).
            for (int i = 0; i < list->count(); ++i)
                if (const FutureRow *d = m_futures->row(ids[std::size_t(i)]))
                    list->item(i)->setIcon(statusIcon(d->status));
            return;
        }
        list->clear();
        for (std::uint64_t id : ids) {
            const FutureRow *d = m_futures->row(id);
            auto *item = new QListWidgetItem(d ? d->key : tr("task %1 (released)").arg(id), list);
            if (d)
                item->setIcon(statusIcon(d->status));
            item->setData(Qt::UserRole, quint64(id));
        }
    };
    fill(m_deps, r->deps());
    fill(m_dependents, r->dependents());
}

void DetailsDialog::applyStory(const TaskStory &s)
{
    ++m_applied;
    if (!s.valid) {
        setTextKeepingScroll(m_result, tr("This future is no longer held by the workbench."));
        return;
    }
    setTextKeepingScroll(m_result,
                         s.status == FutureStatus::Finished
                             ? QString::fromStdString(s.resultJson)
                             : tr("(%1)").arg(statusLabel(s.status)));
    QStringList args;
    if (s.argumentsResolved)
        args << tr("Held before it runs; inputs shown as their values:");
    for (std::size_t i = 0; i < s.arguments.size(); ++i)
        args << QStringLiteral("[%1] %2").arg(i).arg(QString::fromStdString(s.arguments[i]));
    setTextKeepingScroll(m_arguments, args.join(QLatin1Char('\n')));

    // History: append only the new transitions.
    for (int i = m_history->rowCount(); i < int(s.transitions.size()); ++i) {
        const Transition &t = s.transitions[std::size_t(i)];
        m_history->insertRow(i);
        m_history->setItem(i, 0, cell(formatTime(t.timeUs)));
        m_history->setItem(i, 1, cell(QString::fromLatin1(toString(t.from))));
        auto *to = cell(QString::fromLatin1(toString(t.to)));
        to->setIcon(statusIcon(futureStatusOf(t.to)));
        m_history->setItem(i, 2, to);
        m_history->setItem(i, 3, cell(workerLabel(t.worker)));
        m_history->setItem(i, 4, cell(t.attempt > 0 ? QString::number(t.attempt) : QString()));
        m_history->setItem(i, 5, cell(QString::fromUtf8(t.note ? t.note : "")));
    }
    m_history->resizeColumnsToContents();

    // Attempts, one entry each, built from the story; existing entries update in place.
    std::vector<AttemptInfo> attempts;
    for (const Transition &t : s.transitions) {
        if (t.to == TaskState::Processing) {
            AttemptInfo a;
            a.attempt = t.attempt > 0 ? t.attempt : int(attempts.size()) + 1;
            a.worker = t.worker;
            a.startUs = t.timeUs;
            attempts.push_back(a);
        } else if (t.from == TaskState::Processing && !attempts.empty()) {
            AttemptInfo &a = attempts.back();
            a.endUs = t.timeUs;
            a.finished = true;
            a.ok = t.to == TaskState::Memory;
            if (t.to == TaskState::Erred)
                a.error = s.error ? s.error->describe() : "error";
            else if (t.to != TaskState::Memory)
                a.error = std::string(toString(t.to))
                          + (t.note && *t.note ? std::string(": ") + t.note : "");
        }
    }
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        const AttemptInfo &a = attempts[i];
        QTreeWidgetItem *item = int(i) < m_attempts->topLevelItemCount()
                                    ? m_attempts->topLevelItem(int(i))
                                    : new QTreeWidgetItem(m_attempts);
        item->setText(0, tr("#%1").arg(a.attempt));
        item->setText(1, workerLabel(a.worker));
        item->setText(2, formatTime(a.startUs));
        item->setText(3, formatTime(a.endUs));
        item->setText(4, a.finished ? formatDuration(a.endUs - a.startUs) : tr("running"));
        const FutureStatus st = !a.finished ? FutureStatus::Processing
                                : a.ok      ? FutureStatus::Finished
                                            : FutureStatus::Error;
        item->setIcon(0, statusIcon(st));
        // Only the last failure's message is kept by the engine; earlier ones say "failed".
        const bool last = i + 1 == attempts.size();
        item->setText(5,
                      !a.finished ? tr("running")
                      : a.ok      ? tr("finished")
                      : last      ? QString::fromStdString(a.error)
                                  : tr("failed, retried"));
        item->setToolTip(5, item->text(5));
    }

    QStringList logs;
    for (const std::string &l : s.logs)
        logs << QString::fromStdString(l);
    setTextKeepingScroll(m_logs,
                         logs.isEmpty() ? tr("(no log lines)") : logs.join(QLatin1Char('\n')));
    if (s.error) {
        QString text = QStringLiteral("%1: %2").arg(QString::fromStdString(s.error->type),
                                                    QString::fromStdString(s.error->message));
        if (s.error->fromDependency)
            text += tr("\n\nThis task erred because %1 (%2) failed.")
                        .arg(QString::fromStdString(s.error->rootKey),
                             QString::fromStdString(s.error->rootFunction));
        if (s.error->worker >= 0)
            text += tr("\nWorker: %1").arg(workerLabel(s.error->worker));
        text += tr("\nAttempts: %1").arg(s.error->attempts);
        if (!s.error->traceback.empty())
            text += QStringLiteral("\n\n") + QString::fromStdString(s.error->traceback);
        setTextKeepingScroll(m_error, text);
    } else {
        setTextKeepingScroll(m_error, tr("(no error)"));
    }
    m_tabs->setTabText(m_tabs->indexOf(m_attempts), tr("Attempts (%1)").arg(attempts.size()));
    updateOverview();
}

} // namespace taskbench::gui
