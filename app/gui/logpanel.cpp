#include "logpanel.h"

#include "choicepicker.h"
#include "icons.h"
#include "logmodel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {

class LogFilter : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setMinLevel(int level)
    {
        m_minLevel = level;
        invalidateRowsFilter();
    }
    void setText(const QString &text)
    {
        m_text = text;
        invalidateRowsFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QModelIndex i = sourceModel()->index(row, LogModel::Message, parent);
        if (i.data(LogModel::LevelRole).toInt() < m_minLevel)
            return false;
        if (m_text.isEmpty())
            return true;
        return i.data().toString().contains(m_text, Qt::CaseInsensitive)
               || sourceModel()
                      ->index(row, LogModel::Source, parent)
                      .data()
                      .toString()
                      .contains(m_text, Qt::CaseInsensitive);
    }

private:
    int m_minLevel = 2;
    QString m_text;
};

} // namespace

LogPanel::LogPanel(LogModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
{
    auto *filter = new LogFilter(this);
    filter->setSourceModel(model);
    m_proxy = filter;
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 0);
    m_level = new ChoicePicker(this);
    m_level->setAccessibleName(tr("Log level"));
    for (int l = 0; l <= 5; ++l)
        m_level->addItem(LogModel::levelName(l), l);
    m_level->setCurrentIndex(2); // info
    auto *levelLabel = new QLabel(tr("Le&vel:"), this);
    levelLabel->setBuddy(m_level);
    bar->addWidget(levelLabel);
    bar->addWidget(m_level);
    m_text = new QLineEdit(this);
    m_text->setPlaceholderText(tr("Filter log"));
    m_text->setClearButtonEnabled(true);
    m_text->setAccessibleName(tr("Filter log"));
    bar->addWidget(m_text, 1);
    auto *clear = new QToolButton(this);
    clear->setText(tr("Clear"));
    clear->setAccessibleName(tr("Clear log"));
    clear->setAutoRaise(true);
    bar->addWidget(clear);
    layout->addLayout(bar);

    m_view = new QTableView(this);
    m_view->setAccessibleName(tr("Log"));
    m_view->setModel(m_proxy);
    m_view->setShowGrid(false);
    m_view->setWordWrap(false);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 4);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setSectionResizeMode(LogModel::Message, QHeaderView::Stretch);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->horizontalHeader()->resizeSection(LogModel::Time, 92);
    m_view->horizontalHeader()->resizeSection(LogModel::Level, 52);
    m_view->horizontalHeader()->resizeSection(LogModel::Source, 70);
    layout->addWidget(m_view, 1);
    setFocusProxy(m_view);

    connect(m_level, &QComboBox::currentIndexChanged, this, [this, filter](int i) {
        filter->setMinLevel(m_level->itemData(i).toInt());
    });
    connect(
        m_text, &QLineEdit::textChanged, this, [filter](const QString &t) { filter->setText(t); });
    connect(clear, &QToolButton::clicked, model, &LogModel::clear);
    // Follow the tail only while the user is looking at it.
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
        QScrollBar *sb = m_view->verticalScrollBar();
        m_view->setProperty("follow", sb->value() >= sb->maximum() - 2);
    });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_view->property("follow").toBool())
            m_view->scrollToBottom();
    });
    connect(m_view->selectionModel(),
            &QItemSelectionModel::currentRowChanged,
            this,
            [this](const QModelIndex &current) {
                if (m_selecting || !current.isValid())
                    return;
                const QString key = current.data(LogModel::TaskKeyRole).toString();
                if (!key.isEmpty())
                    emit taskSelected(key);
            });
}

void LogPanel::selectTask(const QString &key)
{
    QItemSelection selection;
    QModelIndex last;
    if (!key.isEmpty()) {
        for (int r = 0; r < m_proxy->rowCount(); ++r) {
            const QModelIndex i = m_proxy->index(r, 0);
            if (i.data(LogModel::TaskKeyRole).toString() == key) {
                selection.select(i, i.siblingAtColumn(LogModel::ColumnCount - 1));
                last = i;
            }
        }
    }
    m_selecting = true;
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    if (last.isValid()) {
        m_view->selectionModel()->setCurrentIndex(last, QItemSelectionModel::NoUpdate);
        m_view->scrollTo(last);
    }
    m_selecting = false;
}

int LogPanel::visibleRows() const
{
    return m_proxy->rowCount();
}

} // namespace taskbench::gui
