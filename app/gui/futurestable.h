// The futures table: a filter bar (status and text) over a sortable QTableView of the
// futures model. Selection is reported as task ids; double-click asks for details.
#pragma once

#include "futuresfilter.h"

#include <QWidget>

#include <cstdint>
#include <vector>

class QLabel;
class QLineEdit;
class QTableView;

namespace taskbench::gui {

class ChoicePicker;

class FuturesTable : public QWidget
{
    Q_OBJECT
public:
    explicit FuturesTable(FuturesModel *model, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    FuturesFilter *filter() const { return m_filter; }
    QLineEdit *filterEdit() const { return m_text; }
    ChoicePicker *statusBox() const { return m_status; }

    std::vector<std::uint64_t> selectedIds() const;
    QStringList selectedKeys() const;
    /// Selects the rows of these ids (those that pass the filter) and scrolls to the first.
    void selectIds(const std::vector<std::uint64_t> &ids);
    /// Focuses the text filter (Ctrl+F).
    void focusFilter();
    /// Shows only futures of one status (or all when status < 0).
    void setStatusFilter(int status);

signals:
    void detailsRequested(std::uint64_t id);
    void selectionChanged();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void updatePlaceholder();

    FuturesModel *m_model;
    FuturesFilter *m_filter;
    QTableView *m_view;
    ChoicePicker *m_status;
    QLineEdit *m_text;
    QLabel *m_placeholder;
};

} // namespace taskbench::gui
