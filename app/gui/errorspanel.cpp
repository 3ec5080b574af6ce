#include "errorspanel.h"

#include "accessibletext.h"
#include "editretrydialog.h"
#include "enginebridge.h"
#include "errorsmodel.h"
#include "icons.h"
#include "statusstyle.h"

#include "taskbench/valuecodec.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>
#include <unordered_set>

namespace taskbench::gui {

static QToolButton *
makeButton(QWidget *parent, const QString &icon, const QString &text, const QString &tip)
{
    auto *b = new QToolButton(parent);
    b->setIcon(themedIcon(icon));
    b->setText(text);
    b->setToolTip(tip);
    b->setAccessibleName(QString(text).remove(QLatin1Char('&')).remove(QStringLiteral("…")));
    b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    b->setAutoRaise(true);
    return b;
}

ErrorsPanel::ErrorsPanel(EngineBridge *bridge, FuturesModel *futures, QWidget *parent)
    : QWidget(parent)
    , m_bridge(bridge)
    , m_futures(futures)
    , m_model(new ErrorsModel(futures, this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(4, 4, 4, 0);
    bar->setSpacing(2);
    m_retry = makeButton(
        this, QStringLiteral("retry"), tr("Retry"), tr("Re-run the selected failed tasks"));
    m_retryAll = makeButton(
        this, QStringLiteral("retry"), tr("Retry all failed"), tr("Re-run every failed task"));
    m_retryRoots = makeButton(this,
                              QStringLiteral("retry"),
                              tr("Retry root causes only"),
                              tr("Re-run only the tasks whose own code failed"));
    m_retryDown = makeButton(this,
                             QStringLiteral("retry"),
                             tr("Retry with downstream"),
                             tr("Re-run the selected tasks and everything that depends on them"));
    m_edit
        = makeButton(this,
                     QStringLiteral("edit"),
                     tr("Edit && retry…"),
                     tr("Change the failed task's arguments and re-run it; its dependents follow"));
    m_edit->setAccessibleName(tr("Edit and retry"));
    // Two rows of buttons keep the dock narrow enough for 1280x800.
    auto *rows = new QVBoxLayout;
    rows->setSpacing(0);
    auto *row1 = new QHBoxLayout;
    row1->addWidget(m_retry);
    row1->addWidget(m_retryAll);
    row1->addWidget(m_edit);
    row1->addStretch(1);
    auto *row2 = new QHBoxLayout;
    row2->addWidget(m_retryRoots);
    row2->addWidget(m_retryDown);
    row2->addStretch(1);
    rows->addLayout(row1);
    rows->addLayout(row2);
    bar->addLayout(rows, 1);
    layout->addLayout(bar);

    m_summary = new QLabel(this);
    m_summary->setContentsMargins(6, 0, 6, 0);
    m_summary->setAccessibleName(tr("Errors summary"));
    layout->addWidget(m_summary);

    m_view = new QTreeView(this);
    m_view->setAccessibleName(tr("Errors"));
    m_view->setAccessibleDescription(
        tr("Failed futures grouped by error type; root causes with their cascade below"));
    m_view->setModel(m_model);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->header()->resizeSection(ErrorsModel::Task, 150);
    m_view->header()->resizeSection(ErrorsModel::Function, 105);
    m_view->header()->resizeSection(ErrorsModel::Arguments, 90);
    m_view->header()->resizeSection(ErrorsModel::Worker, 70);
    m_view->header()->resizeSection(ErrorsModel::Attempts, 70);
    // The message is what the panel is for: it takes the free width (not Attempts, the
    // last column, which Qt would stretch), at least 190 px.
    m_view->header()->setStretchLastSection(false);
    m_view->header()->resizeSection(ErrorsModel::Message, 190);
    m_view->header()->setSectionResizeMode(ErrorsModel::Message, QHeaderView::Stretch);
    layout->addWidget(m_view, 1);
    setFocusProxy(m_view);

    connect(m_retry, &QToolButton::clicked, this, &ErrorsPanel::retrySelected);
    connect(m_retryAll, &QToolButton::clicked, this, &ErrorsPanel::retryAllFailed);
    connect(m_retryRoots, &QToolButton::clicked, this, &ErrorsPanel::retryRootCauses);
    connect(m_retryDown, &QToolButton::clicked, this, &ErrorsPanel::retryWithDownstream);
    connect(m_edit, &QToolButton::clicked, this, &ErrorsPanel::editAndRetry);
    connect(m_view, &QTreeView::doubleClicked, this, [this](const QModelIndex &i) {
        const auto id = i.data(ErrorsModel::IdRole).toULongLong();
        if (id)
            emit detailsRequested(id);
    });
    // Keep groups expanded across rebuilds (the model resets when errors change).
    connect(m_model, &ErrorsModel::modelAboutToBeReset, this, [this] {
        m_expanded.clear();
        for (int r = 0; r < m_model->rowCount(); ++r) {
            const QModelIndex g = m_model->index(r, 0);
            if (!m_view->isExpanded(g))
                m_expanded << QStringLiteral("!") + g.data(ErrorsModel::GroupNameRole).toString();
        }
    });
    connect(m_model, &ErrorsModel::modelReset, this, [this] {
        for (int r = 0; r < m_model->rowCount(); ++r) {
            const QModelIndex g = m_model->index(r, 0);
            m_view->setFirstColumnSpanned(r, QModelIndex(), true);
            if (!m_expanded.contains(QStringLiteral("!")
                                     + g.data(ErrorsModel::GroupNameRole).toString()))
                m_view->expand(g);
        }
        updateActions();
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateActions();
        if (m_selecting)
            return;
        // The clicked task itself (a root cause's row stands for its cascade too, but the
        // other views select the task the user pointed at).
        const QModelIndex current = m_view->currentIndex();
        const auto id = current.data(ErrorsModel::IdRole).toULongLong();
        if (id && m_view->selectionModel()->isSelected(current.siblingAtColumn(0)))
            emit taskSelected(id);
        else if (const auto ids = selectedIds(); ids.size() == 1)
            emit taskSelected(ids.front());
    });
    m_confirm = [this](const QString &title, const QString &text) {
        return QMessageBox::question(
                   this, title, text, QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Yes)
               == QMessageBox::Yes;
    };
    updateActions();
}

std::vector<std::uint64_t> ErrorsPanel::selectedIds() const
{
    std::unordered_set<std::uint64_t> seen;
    std::vector<std::uint64_t> out;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        for (std::uint64_t id : m_model->idsUnder(i))
            if (seen.insert(id).second)
                out.push_back(id);
    std::sort(out.begin(), out.end());
    return out;
}

void ErrorsPanel::selectIds(const std::vector<std::uint64_t> &ids)
{
    const std::unordered_set<std::uint64_t> wanted(ids.begin(), ids.end());
    QItemSelection selection;
    QModelIndex first;
    // Groups, their root causes, the roots' cascades: three levels at most.
    std::vector<QModelIndex> stack{QModelIndex()};
    while (!stack.empty()) {
        const QModelIndex parent = stack.back();
        stack.pop_back();
        for (int r = 0; r < m_model->rowCount(parent); ++r) {
            const QModelIndex i = m_model->index(r, 0, parent);
            if (wanted.count(i.data(ErrorsModel::IdRole).toULongLong())) {
                selection.select(i, i.siblingAtColumn(ErrorsModel::ColumnCount - 1));
                if (!first.isValid())
                    first = i;
            }
            if (m_model->rowCount(i) > 0)
                stack.push_back(i);
        }
    }
    m_selecting = true;
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    if (first.isValid()) {
        m_view->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
        m_view->scrollTo(first);
    }
    m_selecting = false;
}

void ErrorsPanel::updateActions()
{
    const int all = int(m_model->allErred().size());
    const int roots = int(m_model->rootCauses().size());
    const auto selected = selectedIds();
    m_retry->setEnabled(!selected.empty());
    m_retryDown->setEnabled(!selected.empty());
    m_retryAll->setEnabled(all > 0);
    m_retryRoots->setEnabled(roots > 0);
    bool oneRoot = false;
    if (selected.size() == 1)
        if (const FutureRow *r = m_futures->row(selected.front()))
            oneRoot = r->hasError() && !r->fromDependency;
    m_edit->setEnabled(oneRoot);
    setLabelText(m_summary,
                 all == 0 ? tr("No errors.")
                          : tr("%n failed task(s)", nullptr, all)
                                + tr(", %n root cause(s)", nullptr, roots));
}

bool ErrorsPanel::confirm(const QString &title, const QString &text)
{
    return !m_confirm || m_confirm(title, text);
}

int ErrorsPanel::retrySelected()
{
    const auto ids = selectedIds();
    if (ids.empty())
        return 0;
    m_bridge->retry(ids);
    return int(ids.size());
}

int ErrorsPanel::retryAllFailed()
{
    const auto ids = m_model->allErred();
    if (ids.empty())
        return 0;
    if (!confirm(tr("Retry all failed"),
                 tr("This re-runs %n failed task(s).", nullptr, int(ids.size()))))
        return 0;
    m_bridge->retry(ids);
    return int(ids.size());
}

int ErrorsPanel::retryRootCauses()
{
    const auto ids = m_model->rootCauses();
    if (ids.empty())
        return 0;
    const int cascade = m_model->cascadeCount();
    if (!confirm(tr("Retry root causes only"),
                 tr("This re-runs %n root cause(s)", nullptr, int(ids.size()))
                     + tr("; %n dependent task(s) that failed because of them stay failed until "
                          "retried.",
                          nullptr,
                          cascade)))
        return 0;
    m_bridge->retry(ids);
    return int(ids.size());
}

int ErrorsPanel::retryWithDownstream()
{
    std::vector<std::uint64_t> ids = selectedIds();
    if (ids.empty())
        return 0;
    const std::vector<std::uint64_t> down = m_futures->downstreamOf(ids);
    ids.insert(ids.end(), down.begin(), down.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::uint64_t> rerun;
    for (std::uint64_t id : ids)
        if (const FutureRow *r = m_futures->row(id))
            if (r->status == FutureStatus::Error || r->status == FutureStatus::Cancelled)
                rerun.push_back(id);
    if (rerun.empty())
        return 0;
    if (!confirm(tr("Retry with downstream"),
                 tr("This re-runs %n task(s): the selection and the failed tasks downstream of it.",
                    nullptr,
                    int(rerun.size()))))
        return 0;
    m_bridge->retry(rerun);
    return int(rerun.size());
}

void ErrorsPanel::editAndRetry()
{
    const auto ids = selectedIds();
    if (ids.size() != 1)
        return;
    const std::uint64_t id = ids.front();
    const FutureRow *row = m_futures->row(id);
    if (!row)
        return;
    const QString key = row->key;
    const QString error = row->errorType() + QStringLiteral(": ") + row->errorMessage();
    const QString function = row->function;
    const int downstream = int(m_futures->downstreamOf({id}).size());
    QPointer<ErrorsPanel> self(this);
    // The arguments come from the engine (off the GUI thread); the dialog opens when they do.
    m_bridge->fetchStory(
        id, this, [self, id, key, error, function, downstream](const TaskStory &story) {
            if (!self || !story.valid)
                return;
            std::vector<Value> args;
            for (const std::string &json : story.arguments) {
                if (auto v = fromJson(json))
                    args.push_back(std::move(*v));
            }
            EditRetryDialog dialog(
                key, error, self->m_bridge->catalog()->function(function), args, downstream, self);
            if (dialog.exec() == QDialog::Accepted && self)
                emit self->editRetried(self->m_bridge->editAndRetry(id, dialog.arguments()));
        });
}

} // namespace taskbench::gui
