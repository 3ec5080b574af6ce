// CompareWindow: two sessions side by side (see comparewindow.h).
#include "comparewindow.h"

#include "accessibletext.h"

#include "comparemodel.h"

#include <QCheckBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {

/// Rows that changed (when asked) and that match the search in any column.
class CompareFilter : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setChangedOnly(bool on)
    {
        m_changedOnly = on;
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        if (m_changedOnly
            && !sourceModel()->index(row, 0, parent).data(CompareModel::ChangedRole).toBool())
            return false;
        return QSortFilterProxyModel::filterAcceptsRow(row, parent);
    }

private:
    bool m_changedOnly = false;
};

} // namespace

CompareWindow::CompareWindow(history::SessionComparison comparison, QWidget *parent)
    // A QDialog, not a QWidget with Qt::Window: assistive tools see a dialog (AT-SPI
    // "filler" otherwise), and Escape closes it.
    : QDialog(parent,
              Qt::Window | Qt::WindowTitleHint | Qt::WindowSystemMenuHint
                  | Qt::WindowMinMaxButtonsHint | Qt::WindowCloseButtonHint)
    , m_model(new CompareModel(this))
{
    setAttribute(Qt::WA_DeleteOnClose);
    setModal(false);
    m_model->setComparison(std::move(comparison));
    const history::SessionComparison &c = m_model->comparison();
    setWindowTitle(tr("Compare sessions %1 and %2").arg(c.a.id).arg(c.b.id));
    setAccessibleName(windowTitle());

    m_summary = new QLabel(this);
    m_summary->setAccessibleName(tr("Comparison summary"));
    setLabelText(m_summary, m_model->summaryText());
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_summary->setWordWrap(true);

    auto *filter = new CompareFilter(this);
    filter->setSourceModel(m_model);
    filter->setFilterKeyColumn(-1);
    filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    filter->setSortRole(CompareModel::SortRole);
    m_proxy = filter;

    m_view = new QTableView(this);
    m_view->setModel(m_proxy);
    m_view->setAccessibleName(tr("Compared tasks"));
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // A's order until the user sorts
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->setTabKeyNavigation(false);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);

    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Filter by key, function, status or error..."));
    m_search->setAccessibleName(tr("Filter compared tasks"));
    m_search->setClearButtonEnabled(true);
    auto *searchLabel = new QLabel(tr("&Filter:"), this);
    searchLabel->setBuddy(m_search);
    m_changedOnly = new QCheckBox(tr("&Changed only"), this);
    m_changedOnly->setAccessibleName(tr("Changed only"));
    m_changedOnly->setToolTip(
        tr("Only tasks whose status, error or result changed, or whose time changed by 10 % "
           "or more, and tasks in one session only"));
    m_exportCsv = new QPushButton(tr("Export &CSV..."), this);
    m_exportCsv->setAccessibleName(tr("Export comparison as CSV"));
    m_exportJson = new QPushButton(tr("Export &JSON..."), this);
    m_exportJson->setAccessibleName(tr("Export comparison as JSON"));
    auto *close = new QPushButton(tr("Close"), this);
    close->setAccessibleName(tr("Close comparison"));

    auto *tools = new QHBoxLayout;
    tools->addWidget(searchLabel);
    tools->addWidget(m_search, 1);
    tools->addWidget(m_changedOnly);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_exportCsv);
    buttons->addWidget(m_exportJson);
    buttons->addStretch(1);
    buttons->addWidget(close);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addLayout(tools);
    layout->addWidget(m_view, 1);
    layout->addLayout(buttons);

    connect(m_search, &QLineEdit::textChanged, this, &CompareWindow::updateFilter);
    connect(m_changedOnly, &QCheckBox::toggled, this, &CompareWindow::updateFilter);
    connect(m_exportCsv, &QPushButton::clicked, this, [this] { exportAs(Format::Csv); });
    connect(m_exportJson, &QPushButton::clicked, this, [this] { exportAs(Format::Json); });
    connect(close, &QPushButton::clicked, this, &QWidget::close);
    resize(1000, 600);
    setFocusProxy(m_view);
}

int CompareWindow::visibleRows() const
{
    return m_proxy->rowCount();
}

void CompareWindow::updateFilter()
{
    static_cast<CompareFilter *>(m_proxy)->setChangedOnly(m_changedOnly->isChecked());
    m_proxy->setFilterFixedString(m_search->text().trimmed());
}

bool CompareWindow::exportTo(const QString &path, Format format, QString *error) const
{
    const std::string text = format == Format::Csv ? history::compareCsv(m_model->comparison())
                                                   : history::compareJson(m_model->comparison());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)
        || f.write(text.data(), qint64(text.size())) != qint64(text.size())) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

void CompareWindow::exportAs(Format format)
{
    const history::SessionComparison &c = m_model->comparison();
    const QString suggested = QStringLiteral("compare-%1-%2.%3")
                                  .arg(c.a.id)
                                  .arg(c.b.id)
                                  .arg(format == Format::Csv ? "csv" : "json");
    const QString path = QFileDialog::getSaveFileName(this,
                                                      tr("Export comparison"),
                                                      suggested,
                                                      format == Format::Csv ? tr("CSV (*.csv)")
                                                                            : tr("JSON (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, format, &error)) {
        QMessageBox::warning(this, tr("Export comparison"), error);
        emit message(tr("Export failed: %1").arg(error));
        return;
    }
    emit message(tr("Exported the comparison of sessions %1 and %2 to %3")
                     .arg(c.a.id)
                     .arg(c.b.id)
                     .arg(path));
}

} // namespace taskbench::gui
