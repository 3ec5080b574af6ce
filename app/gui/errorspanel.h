// The errors dock: erred futures grouped by error type, root causes apart from their
// cascade, with Retry, Retry all failed, Retry root causes only, Retry with downstream and
// Edit & retry. Bulk actions first say how many tasks they will re-run.
#pragma once

#include <QWidget>

#include <cstdint>
#include <functional>
#include <vector>

class QLabel;
class QToolButton;
class QTreeView;

namespace taskbench::gui {

class EngineBridge;
class ErrorsModel;
class FuturesModel;

class ErrorsPanel : public QWidget
{
    Q_OBJECT
public:
    ErrorsPanel(EngineBridge *bridge, FuturesModel *futures, QWidget *parent = nullptr);

    QTreeView *view() const { return m_view; }
    ErrorsModel *model() const { return m_model; }
    /// Asks the user to confirm a bulk action (tests replace it).
    void setConfirm(std::function<bool(const QString &title, const QString &text)> confirm)
    {
        m_confirm = std::move(confirm);
    }
    std::vector<std::uint64_t> selectedIds() const;
    /// Selects the rows of these tasks (clears the selection if none is here) and scrolls to
    /// the first, without emitting taskSelected.
    void selectIds(const std::vector<std::uint64_t> &ids);

public slots:
    int retrySelected();
    int retryAllFailed();
    int retryRootCauses();
    int retryWithDownstream();
    void editAndRetry();

signals:
    void detailsRequested(std::uint64_t id);
    /// Edit and retry re-submitted a task: `request` is the bridge's submission.
    void editRetried(std::uint64_t request);
    void taskSelected(std::uint64_t id);

private:
    void updateActions();
    bool confirm(const QString &title, const QString &text);

    EngineBridge *m_bridge;
    FuturesModel *m_futures;
    ErrorsModel *m_model;
    QTreeView *m_view;
    QLabel *m_summary;
    QToolButton *m_retry;
    QToolButton *m_retryAll;
    QToolButton *m_retryRoots;
    QToolButton *m_retryDown;
    QToolButton *m_edit;
    std::function<bool(const QString &, const QString &)> m_confirm;
    QStringList m_expanded;
    bool m_selecting = false;
};

} // namespace taskbench::gui
