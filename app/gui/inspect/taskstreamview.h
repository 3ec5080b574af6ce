// The task stream: a timeline with one lane per (worker, thread) and one rectangle per
// execution, coloured by task function (a stable palette), failed attempts in red. Running
// tasks are drawn as bars that grow live (Dask's task stream shows a task only once it has
// finished); while work runs the view follows the present. Wheel zooms the time axis around
// the cursor, dragging or shift+wheel pans, Home shows everything, End follows live again.
// Hover shows key and duration, a click selects the future.
//
// Painting is O(visible): per lane a binary search finds the window, and executions thinner
// than a pixel are merged into one run, so 100,000 executions repaint in a few ms.
#pragma once

#include "streammodel.h"

#include "taskbench/events.h"

#include <QAbstractScrollArea>
#include <QList>
#include <QTimer>

#include <functional>
#include <unordered_set>
#include <vector>

class QAction;

namespace taskbench::inspect {

class TaskStreamView : public QAbstractScrollArea
{
    Q_OBJECT
public:
    explicit TaskStreamView(QWidget *parent = nullptr);

    /// Applies one batch of engine events (GUI thread).
    void applyEvents(const taskbench::Event *begin, const taskbench::Event *end);
    void applyEvents(const taskbench::EventBatch &batch)
    {
        applyEvents(batch.data(), batch.data() + batch.size());
    }
    void clear();
    const StreamModel &model() const { return m_model; }

    /// Live mode: the right edge tracks the present while work runs.
    void setFollowing(bool on);
    bool isFollowing() const { return m_following; }
    /// Colours executions by their peak memory (light to dark red, on a log scale; grey
    /// where unknown) instead of by function. Also "Colour by memory" (M) in the menu.
    void setColorByMemory(bool on);
    bool colorsByMemory() const;
    /// Shows [startUs, startUs + spanUs) (wall-clock µs); leaves live mode.
    void setVisibleWindow(std::int64_t startUs, std::int64_t spanUs);
    std::int64_t visibleStartUs() const { return m_viewStartUs; }
    std::int64_t visibleSpanUs() const;
    /// The clock running bars grow to (tests and benchmarks use a synthetic one).
    void setClock(std::function<std::int64_t()> nowUs);

    /// Actions on the selected tasks that the window owns (e.g. "Kill now"), shown in the
    /// context menu after Release; their enabled state is theirs to keep.
    void addTaskActions(const QList<QAction *> &actions) { m_taskActions << actions; }
    QList<quint64> selectedTasks() const;
    const QList<quint64> &markedTasks() const { return m_markedOrder; }
    int laneHeight() const { return m_laneHeight; }
    /// The lane at a viewport position, -1 if none; the time at an x coordinate.
    int laneAt(int y) const;
    std::int64_t timeAt(double x) const;
    /// Viewport x of a time, and the y of a lane's top.
    double xOf(std::int64_t us) const;
    int yOfLane(int lane) const;

public slots:
    /// Selects the tasks (without emitting taskSelected) and brings the latest execution of
    /// the first one into view.
    void selectTasks(const QList<quint64> &ids);
    /// Outlines the executions of these tasks in the mark colour (a selected task's upstream
    /// and downstream, or a critical path); an empty list clears the marks.
    void setMarkedTasks(const QList<quint64> &ids);
    void zoomIn();
    void zoomOut();
    void showAll();
    void followLive();

signals:
    void taskSelected(quint64 id);
    void retryRequested(const QList<quint64> &ids);
    void cancelRequested(const QList<quint64> &ids);
    void releaseRequested(const QList<quint64> &ids);
    void showResultRequested(quint64 id);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    bool viewportEvent(QEvent *event) override;
    void scrollContentsBy(int dx, int dy) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    struct Hit
    {
        std::uint64_t task = 0;
        int lane = -1;
        std::int64_t start = 0;
        std::int64_t end = 0;
        std::uint32_t function = 0;
        std::uint16_t attempt = 0;
        std::uint8_t flags = 0;
        std::uint8_t memory = 0; ///< Execution::memory
        bool running = false;
    };

    std::int64_t now() const;
    /// The end of the data: the present while work runs, else the last finish.
    std::int64_t dataEndUs() const;
    double plotWidth() const;
    void zoomAround(double factor, double x);
    void panBy(double pixels);
    void applyFollow();
    void updateScrollBars();
    void updateTicker();
    Hit hitAt(const QPoint &pos) const;
    void select(const Hit &hit);
    void selectNeighbour(int dLane, int dIndex);
    QString toolTipFor(const Hit &hit) const;
    const QColor &colorOf(std::uint32_t function);
    void paintAxis(QPainter &p, std::int64_t t0, std::int64_t t1);
    void paintGutter(QPainter &p, int firstLane, int lastLane);
    void paintFunctionLegend(QPainter &p, const QRect &plot);
    void paintMemoryLegend(QPainter &p, const QRect &plot, int lowClass, int highClass);
    void refreshSelectionCache();

    StreamModel m_model;
    std::function<std::int64_t()> m_now;
    std::int64_t m_viewStartUs = 0;
    double m_usPerPx = 10000; ///< 10 ms per pixel until data says otherwise
    bool m_following = true;
    bool m_autoZoom = true; ///< follow mode widens to keep everything in view (until zoomed)
    bool m_updatingScrollBars = false;
    double m_scrollUnitUs = 1;
    std::int64_t m_scrollOriginUs = 0;

    int m_laneHeight = 22;
    int m_gutterWidth = 132;
    int m_axisHeight = 26;

    QTimer m_ticker; ///< repaints while bars grow
    std::vector<QColor> m_functionColors;
    std::vector<StreamRun> m_runs; ///< reused per lane while painting

    std::unordered_set<std::uint64_t> m_selected;
    QList<quint64> m_selectedOrder;
    std::vector<std::pair<int, std::size_t>> m_selectedExecutions;
    QList<quint64> m_markedOrder;
    std::vector<std::pair<int, std::size_t>> m_markedExecutions;
    std::uint64_t m_selectionCacheVersion = ~std::uint64_t(0);
    Hit m_current; ///< keyboard navigation anchor (the last selected execution)
    Hit m_hover;

    QPoint m_pressPos;
    std::int64_t m_pressViewStart = 0;
    int m_pressScrollY = 0;
    bool m_pressed = false;
    bool m_dragging = false;

    QAction *m_retry;
    QAction *m_cancel;
    QAction *m_release;
    QList<QAction *> m_taskActions;
    QAction *m_showResult;
    QAction *m_zoomIn;
    QAction *m_zoomOut;
    QAction *m_showAll;
    QAction *m_follow;
    QAction *m_byMemory; ///< colour by each attempt's peak memory instead of its function
};

} // namespace taskbench::inspect
