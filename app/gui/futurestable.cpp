#include "futurestable.h"

#include "choicepicker.h"
#include "icons.h"
#include "statusstyle.h"

#include <QAction>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace taskbench::gui {

FuturesTable::FuturesTable(FuturesModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_filter(new FuturesFilter(this))
{
    m_filter->setSourceModel(model);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 6, 6, 0);
    m_status = new ChoicePicker(this);
    m_status->setAccessibleName(tr("Status filter"));
    m_status->addItem(tr("All statuses"), -1);
    for (int s = 0; s < kFutureStatusCount; ++s)
        m_status->addItem(statusIcon(FutureStatus(s)), statusLabel(FutureStatus(s)), s);
    m_status->addItem(tr("Not done"), -2);
    auto *statusLabelW = new QLabel(tr("S&tatus:"), this);
    statusLabelW->setBuddy(m_status);
    bar->addWidget(statusLabelW);
    bar->addWidget(m_status);
    m_text = new QLineEdit(this);
    m_text->setPlaceholderText(tr("Filter by key, function, group or result (Ctrl+F)"));
    m_text->setClearButtonEnabled(true);
    m_text->setAccessibleName(tr("Filter futures"));
    // The icon is a button to assistive tools: it has a name, and pressing it focuses the
    // filter like Ctrl+F.
    QAction *filterIcon
        = m_text->addAction(themedIcon(QStringLiteral("filter")), QLineEdit::LeadingPosition);
    filterIcon->setText(tr("Filter futures"));
    connect(filterIcon, &QAction::triggered, m_text, [this] {
        m_text->setFocus(Qt::ShortcutFocusReason);
        m_text->selectAll();
    });
    bar->addWidget(m_text, 1);
    layout->addLayout(bar);

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("futuresView"));
    m_view->setAccessibleName(tr("Futures"));
    m_view->setAccessibleDescription(tr("All futures with their status; double-click for details"));
    m_view->setModel(m_filter);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setAlternatingRowColors(true);
    m_view->setShowGrid(false);
    m_view->setWordWrap(false);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->verticalHeader()->hide();
    // Fixed row heights keep 100,000 rows cheap to lay out.
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    QHeaderView *h = m_view->horizontalHeader();
    h->setHighlightSections(false);
    h->setSectionsMovable(true);
    h->setSortIndicator(-1, Qt::AscendingOrder);
    m_view->setSortingEnabled(true);
    // Result gets a real width of its own rather than Stretch: a stretched section shrinks
    // to the minimum ("R") when the other columns already overflow the view, which they do
    // at 1280x800 beside the docks. The last column takes what room is left.
    const int em = m_view->fontMetrics().horizontalAdvance(QLatin1Char('m'));
    h->resizeSection(FuturesModel::Key, em * 10);
    h->resizeSection(FuturesModel::Function, em * 9);
    h->resizeSection(FuturesModel::Status, em * 7);
    h->resizeSection(FuturesModel::Type, em * 4);
    h->resizeSection(FuturesModel::Result, em * 14);
    h->resizeSection(FuturesModel::Worker, em * 6);
    h->resizeSection(FuturesModel::Started, em * 7);
    h->resizeSection(FuturesModel::Duration, em * 6);
    h->resizeSection(FuturesModel::Attempts, em * 4);
    h->resizeSection(FuturesModel::Memory, em * 6);
    h->resizeSection(FuturesModel::Size, em * 5);
    h->setStretchLastSection(true);
    h->setMinimumSectionSize(em * 3);
    layout->addWidget(m_view, 1);
    setFocusProxy(m_view);

    // A hint in the empty table says what to do (or that the filter hides everything).
    m_placeholder = new QLabel(m_view->viewport());
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    m_placeholder->setForegroundRole(QPalette::PlaceholderText);
    m_placeholder->setAttribute(Qt::WA_TransparentForMouseEvents);
    m_view->viewport()->installEventFilter(this);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_filter, signal, this, &FuturesTable::updatePlaceholder);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &FuturesTable::updatePlaceholder);
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, &FuturesTable::updatePlaceholder);
    updatePlaceholder();

    connect(m_text, &QLineEdit::textChanged, m_filter, &FuturesFilter::setText);
    connect(m_status, &QComboBox::currentIndexChanged, this, [this](int i) {
        const int s = m_status->itemData(i).toInt();
        if (s == -1)
            m_filter->setStatusMask(FuturesFilter::allStatuses());
        else if (s == -2)
            m_filter->setStatusMask((1u << unsigned(FutureStatus::Pending))
                                    | (1u << unsigned(FutureStatus::Processing))
                                    | (1u << unsigned(FutureStatus::Held)));
        else
            m_filter->setStatusMask(1u << unsigned(s));
    });
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        emit detailsRequested(index.data(FuturesModel::IdRole).toULongLong());
    });
    connect(m_view, &QTableView::activated, this, [this](const QModelIndex &index) {
        // Enter on a row opens its details (keyboard equivalent of double-click).
        emit detailsRequested(index.data(FuturesModel::IdRole).toULongLong());
    });
    connect(m_view->selectionModel(),
            &QItemSelectionModel::selectionChanged,
            this,
            &FuturesTable::selectionChanged);
}

void FuturesTable::updatePlaceholder()
{
    const bool empty = m_filter->rowCount() == 0;
    m_placeholder->setVisible(empty);
    if (!empty)
        return;
    m_placeholder->setText(
        m_model->rowCount() == 0
            ? tr("No futures yet.\nPick a function, fill in its arguments and press "
                 "Submit (Ctrl+Return),\nor map it over many inputs (Ctrl+Shift+Return).")
            : tr("No futures match the filter."));
    m_placeholder->setGeometry(m_view->viewport()->rect());
}

bool FuturesTable::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_view->viewport() && event->type() == QEvent::Resize)
        m_placeholder->setGeometry(m_view->viewport()->rect());
    return QWidget::eventFilter(watched, event);
}

std::vector<std::uint64_t> FuturesTable::selectedIds() const
{
    std::vector<std::uint64_t> out;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    out.reserve(std::size_t(rows.size()));
    for (const QModelIndex &i : rows)
        out.push_back(i.data(FuturesModel::IdRole).toULongLong());
    std::sort(out.begin(), out.end());
    return out;
}

QStringList FuturesTable::selectedKeys() const
{
    QStringList keys;
    for (std::uint64_t id : selectedIds())
        if (const FutureRow *r = m_model->row(id))
            keys << r->key;
    return keys;
}

void FuturesTable::selectIds(const std::vector<std::uint64_t> &ids)
{
    QItemSelection selection;
    QModelIndex first;
    for (std::uint64_t id : ids) {
        const int row = m_model->rowOf(id);
        if (row < 0)
            continue;
        const QModelIndex proxy = m_filter->mapFromSource(m_model->index(row, 0));
        if (!proxy.isValid())
            continue;
        if (!first.isValid())
            first = proxy;
        selection.select(proxy, proxy.siblingAtColumn(FuturesModel::ColumnCount - 1));
    }
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    if (first.isValid()) {
        m_view->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
        m_view->scrollTo(first);
    }
}

void FuturesTable::focusFilter()
{
    m_text->setFocus(Qt::ShortcutFocusReason);
    m_text->selectAll();
}

void FuturesTable::setStatusFilter(int status)
{
    m_status->setCurrentIndex(m_status->findData(status));
}

} // namespace taskbench::gui
