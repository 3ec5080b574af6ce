#include "progresspanel.h"

#include "progressmodel.h"
#include "statusstyle.h"

#include <QListView>
#include <QPainter>
#include <QPainterPath>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {

/// Two lines per task group, like dask's progress bars: the group name with its counts, and
/// under it a stacked bar of finished (green), erred (red), processing (blue) and cancelled
/// or lost (orange) tasks in proportion to the group's total.
class ProgressBarDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void
    paint(QPainter *p, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        opt.text.clear();
        opt.icon = QIcon();
        const QWidget *w = opt.widget;
        w->style()->drawControl(QStyle::CE_ItemViewItem, &opt, p, w);

        const int total = index.data(ProgressModel::TotalRole).toInt();
        const int done = index.data(ProgressModel::DoneRole).toInt();
        const int erred = index.data(ProgressModel::ErredRole).toInt();
        const QRect r = option.rect.adjusted(6, 3, -6, -4);
        const int lineH = option.fontMetrics.height();
        const bool selected = option.state & QStyle::State_Selected;
        p->save();
        p->setPen(option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
        QString counts = QStringLiteral("%1 / %2").arg(done).arg(total);
        if (erred > 0)
            counts += QObject::tr(", %1 erred").arg(erred);
        const int countsW = option.fontMetrics.horizontalAdvance(counts);
        const QRect textRect(r.left(), r.top(), r.width(), lineH);
        p->drawText(textRect, Qt::AlignRight | Qt::AlignVCenter, counts);
        const QString name = option.fontMetrics.elidedText(
            index.data(Qt::DisplayRole).toString(), Qt::ElideMiddle, r.width() - countsW - 8);
        p->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter, name);

        const QRectF bar(r.left(), r.top() + lineH + 3, r.width(), qMax(6, lineH / 2));
        p->setRenderHint(QPainter::Antialiasing);
        p->setPen(Qt::NoPen);
        QColor track = option.palette.color(QPalette::Mid);
        track.setAlpha(90);
        p->setBrush(track);
        p->drawRoundedRect(bar, 3, 3);
        if (total > 0) {
            const struct
            {
                int role;
                FutureStatus status;
            } parts[] = {{ProgressModel::DoneRole, FutureStatus::Finished},
                         {ProgressModel::ErredRole, FutureStatus::Error},
                         {ProgressModel::ProcessingRole, FutureStatus::Processing},
                         {ProgressModel::CancelledRole, FutureStatus::Cancelled}};
            QPainterPath clip;
            clip.addRoundedRect(bar, 3, 3);
            p->setClipPath(clip);
            qreal x = bar.left();
            for (const auto &part : parts) {
                const int n = index.data(part.role).toInt();
                if (n <= 0)
                    continue;
                const qreal width = bar.width() * n / total;
                p->setBrush(statusColor(part.status));
                p->drawRect(QRectF(x, bar.top(), width, bar.height()));
                x += width;
            }
        }
        p->restore();
    }

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const override
    {
        const int lineH = option.fontMetrics.height();
        return QSize(160, lineH + qMax(6, lineH / 2) + 12);
    }
};

} // namespace

ProgressPanel::ProgressPanel(FuturesModel *futures, QWidget *parent)
    : QWidget(parent)
    , m_model(new ProgressModel(futures, this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_view = new QListView(this);
    m_view->setAccessibleName(tr("Progress"));
    m_view->setAccessibleDescription(tr("Progress per task group: finished, erred and total"));
    m_view->setModel(m_model);
    m_view->setModelColumn(ProgressModel::Group);
    m_view->setItemDelegate(new ProgressBarDelegate(m_view));
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setUniformItemSizes(true);
    m_view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    layout->addWidget(m_view);
    setFocusProxy(m_view);
    connect(m_view, &QListView::activated, this, [this](const QModelIndex &i) {
        emit groupActivated(i.siblingAtColumn(ProgressModel::Group).data().toString());
    });
}

} // namespace taskbench::gui
