#include "criticalpathdialog.h"

#include "accessibletext.h"
#include "futuresmodel.h"
#include "statusstyle.h"

#include "taskbench/history/criticalpath.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {

std::vector<history::PathTask> pathTasksOf(const FuturesModel &futures)
{
    std::vector<history::PathTask> tasks;
    tasks.reserve(futures.rows().size());
    for (const FutureRow &r : futures.rows()) {
        if (r.endUs <= 0)
            continue; // never ran to an end (yet)
        history::PathTask t;
        t.id = r.id;
        t.key = r.key.toStdString();
        t.function = r.function.toStdString();
        t.deps = r.deps();
        t.submittedUs = r.addedUs;
        t.startUs = r.startUs > 0 ? r.startUs : r.endUs;
        t.endUs = r.endUs;
        t.cachedFrom = r.cachedSession; // served from the cache: no run
        tasks.push_back(std::move(t));
    }
    return tasks;
}

QTableWidgetItem *cell(const QString &text, bool number = false)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    if (number)
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

} // namespace

CriticalPathDialog::CriticalPathDialog(const FuturesModel *futures, QWidget *parent)
    : QDialog(parent)
    , m_futures(futures)
{
    setWindowTitle(tr("Critical path"));
    setAccessibleName(tr("Critical path"));
    auto *layout = new QVBoxLayout(this);
    m_summary = new QLabel(this);
    m_summary->setAccessibleName(tr("Critical path summary"));
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);
    m_table = new QTableWidget(0, 6, this);
    m_table->setAccessibleName(tr("Critical path steps"));
    m_table->setHorizontalHeaderLabels(
        {tr("Step"), tr("Key"), tr("Function"), tr("Wait"), tr("Run"), tr("Share")});
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    layout->addWidget(m_table, 1);
    connect(m_table, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (row >= 0 && row < m_path.size())
            emit taskSelected(m_path[row]);
    });
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton *refreshButton = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    refreshButton->setAccessibleName(tr("Refresh critical path"));
    buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close"));
    connect(refreshButton, &QPushButton::clicked, this, &CriticalPathDialog::refresh);
    connect(buttons, &QDialogButtonBox::rejected, this, &CriticalPathDialog::reject);
    layout->addWidget(buttons);
    resize(640, 360);
    refresh();
}

void CriticalPathDialog::refresh()
{
    const std::vector<history::PathTask> tasks = pathTasksOf(*m_futures);
    const history::CriticalPath path = history::criticalPath(tasks);
    m_path.clear();
    m_table->setRowCount(0);
    if (path.allCached()) {
        setLabelText(m_summary,
                     tr("No task ran: all %n finished task(s) came from the result cache, so "
                        "there is no critical path.",
                        nullptr,
                        int(path.cachedTasks)));
        emit pathChanged(m_path);
        return;
    }
    if (path.steps.empty()) {
        setLabelText(m_summary, tr("No task has finished yet: there is no critical path."));
        emit pathChanged(m_path);
        return;
    }
    m_table->setRowCount(int(path.steps.size()));
    for (int i = 0; i < int(path.steps.size()); ++i) {
        const history::PathStep &s = path.steps[std::size_t(i)];
        m_path << s.id;
        m_table->setItem(i, 0, cell(QString::number(i + 1), true));
        m_table->setItem(i, 1, cell(QString::fromStdString(s.key)));
        m_table->setItem(i, 2, cell(QString::fromStdString(s.function)));
        m_table->setItem(i, 3, cell(formatDuration(s.waitUs), true));
        QTableWidgetItem *run = cell(s.cached() ? tr("%1 (from cache)").arg(formatDuration(0))
                                                : formatDuration(s.runUs),
                                     true);
        if (s.cached())
            run->setToolTip(s.cachedFrom > 0 ? tr("Served from the result cache: computed in "
                                                  "session %1")
                                                   .arg(s.cachedFrom)
                                             : tr("Served from the result cache"));
        m_table->setItem(i, 4, run);
        m_table->setItem(i, 5, cell(QStringLiteral("%1 %").arg(s.share * 100, 0, 'f', 1), true));
    }
    m_table->resizeColumnsToContents();
    setLabelText(m_summary,
                 tr("%n task(s) determined the run's %1 (of %2 finished); highlighted in the "
                    "task graph and the task stream.",
                    nullptr,
                    int(path.steps.size()))
                     .arg(formatDuration(path.endUs - path.startUs))
                     .arg(tasks.size()));
    emit pathChanged(m_path);
}

void CriticalPathDialog::done(int result)
{
    emit pathChanged({});
    QDialog::done(result);
}

} // namespace taskbench::gui
