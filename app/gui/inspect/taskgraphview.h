// The task graph view: the futures' DAG, laid out by Graphviz `dot` off the GUI thread,
// coloured by state (with a legend), root-cause errors marked apart from the dependents that
// erred because of them. Above a threshold (500 tasks by default) every task group (a map
// call, a function) collapses into one node with a stacked bar of counts per state; a
// double-click expands a group. State changes recolour nodes in place; only tasks added or
// forgotten trigger a new layout, debounced, and only when the displayed structure changed.
//
// Integration: feed applyEvents() with the bridge's event batches on the GUI thread; connect
// taskSelected / selectTasks to the other views; connect the *Requested signals to the
// bridge. Exports to SVG, PNG and DOT.
#pragma once

#include "graphlayout.h"
#include "graphmodel.h"

#include "taskbench/events.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QList>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <optional>
#include <unordered_set>
#include <vector>

class QAction;
class QGraphicsScene;
class QGraphicsView;
class QLabel;
class QToolBar;

namespace taskbench::inspect {

class GraphCanvas;
class GraphEdgeItem;
class GraphLegend;
class GraphNodeItem;

class TaskGraphView : public QWidget
{
    Q_OBJECT
public:
    explicit TaskGraphView(QWidget *parent = nullptr);
    ~TaskGraphView() override;

    /// Applies one batch of engine events (GUI thread).
    void applyEvents(const taskbench::Event *begin, const taskbench::Event *end);
    void applyEvents(const taskbench::EventBatch &batch)
    {
        applyEvents(batch.data(), batch.data() + batch.size());
    }
    /// Forgets everything (a new cluster: task ids start again).
    void clear();

    /// Above this many tasks, groups collapse into one node each (default 500).
    void setCollapseThreshold(int tasks);
    int collapseThreshold() const { return int(m_threshold); }
    /// Groups larger than this are not expanded (default 2,000): the table serves those.
    void setExpandLimit(int tasks) { m_expandLimit = std::size_t(std::max(1, tasks)); }
    /// Minimum time between two layouts while the structure keeps changing (default 250 ms).
    void setRelayoutInterval(int ms) { m_relayoutIntervalMs = std::max(0, ms); }

    /// Dependencies left to right instead of top down (toolbar toggle, key O).
    void setLeftToRight(bool on);
    bool isLeftToRight() const { return m_leftToRight; }

    /// Actions on the selected tasks that the window owns (e.g. "Kill now"), shown in the
    /// context menu after Release; their enabled state is theirs to keep.
    void addTaskActions(const QList<QAction *> &actions) { m_taskActions << actions; }
    const GraphModel &model() const { return m_model; }
    QGraphicsView *graphicsView() const;
    QGraphicsScene *scene() const { return m_scene; }

    /// A layout is scheduled or running.
    bool isLayoutPending() const;
    bool isCollapsed() const { return m_display.collapsed; }
    int displayedNodeCount() const { return int(m_nodeItems.size()); }
    int displayedEdgeCount() const { return int(m_edgeItems.size()); }
    /// Scene rectangle of the node showing the task (its group's node when collapsed).
    std::optional<QRectF> nodeRect(quint64 taskId) const;
    /// Duration of the last layout (Graphviz only), ms.
    double lastLayoutMs() const { return m_lastLayoutMs; }

    void setGroupExpanded(const QString &group, bool expanded);
    bool isGroupExpanded(const QString &group) const;

    QList<quint64> selectedTasks() const;

    /// The displayed graph as DOT (with colours and tooltips; re-renderable with dot).
    QByteArray toDot() const;
    /// Exports by suffix: .svg, .png or .dot. Returns false and sets *error on failure.
    bool exportTo(const QString &path, QString *error = nullptr) const;

public slots:
    /// Selects the tasks' nodes (without emitting taskSelected) and scrolls the first into view.
    void selectTasks(const QList<quint64> &ids);
    void zoomIn();
    void zoomOut();
    /// Fits the whole graph (never enlarging beyond 100 %).
    void fitToView();
    void highlightUpstream();
    void highlightDownstream();
    /// Emphasises these tasks and the edges between them (a critical path), dims the rest.
    void highlightPath(const QList<quint64> &ids);
    void clearHighlight();
    /// Asks for a file name and exports.
    void exportWithDialog();

signals:
    void taskSelected(quint64 id);
    void retryRequested(const QList<quint64> &ids);
    void cancelRequested(const QList<quint64> &ids);
    void releaseRequested(const QList<quint64> &ids);
    void showResultRequested(quint64 id);
    /// A new layout is on screen.
    void layoutApplied();

private:
    friend class GraphCanvas;
    void scheduleRelayout();
    void startLayout();
    void layoutDone();
    void applyLayout(const DisplayGraph &display, const LayoutResult &result);
    void refreshInfo();
    void onSceneSelectionChanged();
    QSizeF nodeSize(const DisplayNode &node, QString *title, QString *subtitle) const;
    GraphNodeItem *itemForSlot(std::uint32_t slot) const;
    std::vector<std::uint32_t> slotsOf(const GraphNodeItem *node) const;
    std::vector<std::uint32_t> selectedSlots() const;
    QList<quint64> idsOf(const std::vector<std::uint32_t> &taskSlots,
                         bool (*keep)(TaskState)) const;
    void applyHighlight();
    void highlight(bool upstream);
    void updateActions();
    QString groupLabel(std::uint32_t group) const;

    // Called by the canvas.
    void noteUserNavigation() { m_userNavigated = true; }
    void navigate(int dx, int dy);
    void activateNode(GraphNodeItem *node);
    void showContextMenu(GraphNodeItem *node, const QPoint &globalPos);
    QString toolTipFor(const GraphNodeItem *node) const;

    GraphModel m_model;
    QGraphicsScene *m_scene;
    GraphCanvas *m_canvas;
    GraphLegend *m_legend;
    QToolBar *m_toolBar;
    QAction *m_legendToggle;
    QAction *m_direction;
    QLabel *m_info;

    std::size_t m_threshold = 500;
    std::size_t m_expandLimit = 2000;
    int m_relayoutIntervalMs = 250;
    std::unordered_set<std::uint32_t> m_expanded; ///< group indexes

    // What is on screen, and the items by task slot / group index.
    DisplayGraph m_display;
    bool m_hasLayout = false;
    std::vector<GraphNodeItem *> m_nodeItems; ///< by display index
    std::vector<GraphEdgeItem *> m_edgeItems;
    std::vector<GraphNodeItem *> m_itemBySlot;
    std::vector<GraphNodeItem *> m_itemByGroup;

    // Layout scheduling: at most one running; changes meanwhile ask for one more.
    QTimer m_relayoutTimer;
    QElapsedTimer m_sinceLayoutStart;
    QFutureWatcher<LayoutResult> *m_watcher;
    DisplayGraph m_pendingDisplay;
    std::vector<QSizeF> m_pendingSizes;
    QStringList m_pendingTitles;
    QStringList m_pendingSubtitles;
    quint64 m_generation = 0; ///< bumped by clear(): late layouts are dropped
    quint64 m_runningGeneration = 0;
    std::vector<DisplayNode> m_selectedNodes;  ///< restored after a relayout
    std::optional<std::uint32_t> m_focusGroup; ///< just expanded: show its tasks
    bool m_layoutRunning = false;
    bool m_relayoutWanted = false;
    double m_lastLayoutMs = 0;

    bool m_userNavigated = false;
    bool m_leftToRight = false;
    bool m_forceLayout = false;
    bool m_syncingSelection = false;
    enum class Highlight { None, Upstream, Downstream, Path } m_highlightMode = Highlight::None;
    std::vector<std::uint32_t> m_highlightSeeds; ///< slots

    QAction *m_retry;
    QAction *m_cancel;
    QAction *m_release;
    QList<QAction *> m_taskActions;
    QAction *m_showResult;
    QAction *m_upstream;
    QAction *m_downstream;
    QAction *m_clearHighlight;
    QAction *m_expand;
    QAction *m_collapse;
    QAction *m_zoomIn;
    QAction *m_zoomOut;
    QAction *m_fit;
    QAction *m_export;
};

} // namespace taskbench::inspect
