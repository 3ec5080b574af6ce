// The task stream view's input: wheel zoom, drag to pan, click and double-click, the
// keyboard (zoom, pan, step between executions), the context menu and tooltips.
#include "taskstreamview.h"

#include <QAction>
#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>

namespace taskbench::inspect {

void TaskStreamView::wheelEvent(QWheelEvent *event)
{
    const QPoint angle = event->angleDelta();
    const Qt::KeyboardModifiers mods = event->modifiers();
    if (mods & Qt::ControlModifier) {
        // Ctrl+wheel scrolls the lanes.
        verticalScrollBar()->setValue(verticalScrollBar()->value() - angle.y() / 4);
    } else if ((mods & Qt::ShiftModifier) || angle.x() != 0) {
        const int delta = angle.x() != 0 ? angle.x() : angle.y();
        panBy(-delta / 120.0 * plotWidth() / 10);
    } else if (angle.y() != 0) {
        zoomAround(std::pow(1.0015, angle.y()), event->position().x());
    }
    event->accept();
}

void TaskStreamView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        m_pressed = true;
        m_dragging = false;
        m_pressPos = event->pos();
        m_pressViewStart = m_viewStartUs;
        m_pressScrollY = verticalScrollBar()->value();
        setFocus(Qt::MouseFocusReason);
    }
    event->accept();
}

void TaskStreamView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_pressed && (event->buttons() & Qt::LeftButton)) {
        const QPoint d = event->pos() - m_pressPos;
        if (!m_dragging && d.manhattanLength() > 4)
            m_dragging = true;
        if (m_dragging) {
            viewport()->setCursor(Qt::ClosedHandCursor);
            m_viewStartUs = m_pressViewStart - std::int64_t(d.x() * m_usPerPx);
            verticalScrollBar()->setValue(m_pressScrollY - d.y());
            m_following = false;
            m_follow->setChecked(false);
            updateScrollBars();
            viewport()->update();
        }
        return;
    }
    const Hit hit = hitAt(event->pos());
    if (hit.task != m_hover.task || hit.start != m_hover.start) {
        m_hover = hit;
        viewport()->update();
    }
}

void TaskStreamView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && m_pressed) {
        m_pressed = false;
        viewport()->unsetCursor();
        if (!m_dragging) {
            const Hit hit = hitAt(event->pos());
            select(hit);
        }
        m_dragging = false;
    }
    event->accept();
}

void TaskStreamView::mouseDoubleClickEvent(QMouseEvent *event)
{
    const Hit hit = hitAt(event->pos());
    if (hit.task != 0)
        emit showResultRequested(hit.task);
    event->accept();
}

void TaskStreamView::keyPressEvent(QKeyEvent *event)
{
    const bool ctrl = event->modifiers() & Qt::ControlModifier;
    switch (event->key()) {
    case Qt::Key_Left:
        if (ctrl)
            selectNeighbour(0, -1);
        else
            panBy(-plotWidth() / 8);
        break;
    case Qt::Key_Right:
        if (ctrl)
            selectNeighbour(0, 1);
        else
            panBy(plotWidth() / 8);
        break;
    case Qt::Key_Up:
        if (ctrl)
            selectNeighbour(-1, 0);
        else
            verticalScrollBar()->setValue(verticalScrollBar()->value() - m_laneHeight);
        break;
    case Qt::Key_Down:
        if (ctrl)
            selectNeighbour(1, 0);
        else
            verticalScrollBar()->setValue(verticalScrollBar()->value() + m_laneHeight);
        break;
    case Qt::Key_PageUp:
        verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepSub);
        break;
    case Qt::Key_PageDown:
        verticalScrollBar()->triggerAction(QAbstractSlider::SliderPageStepAdd);
        break;
    default:
        QAbstractScrollArea::keyPressEvent(event);
        return;
    }
    event->accept();
}

void TaskStreamView::contextMenuEvent(QContextMenuEvent *event)
{
    if (event->reason() == QContextMenuEvent::Mouse) {
        const Hit hit = hitAt(viewport()->mapFrom(this, event->pos()));
        if (hit.task != 0 && !m_selected.count(hit.task))
            select(hit);
    }
    const bool has = !m_selectedOrder.isEmpty();
    for (QAction *a : {m_showResult, m_retry, m_cancel, m_release})
        a->setEnabled(has);
    QMenu menu(this);
    menu.setAccessibleName(tr("Task stream menu"));
    if (has) {
        menu.addAction(m_showResult);
        menu.addAction(m_retry);
        menu.addAction(m_cancel);
        menu.addAction(m_release);
        menu.addActions(m_taskActions);
        menu.addSeparator();
    }
    menu.addAction(m_zoomIn);
    menu.addAction(m_zoomOut);
    menu.addAction(m_showAll);
    menu.addAction(m_follow);
    menu.addSeparator();
    menu.addAction(m_byMemory);
    menu.exec(event->globalPos());
    event->accept();
}

bool TaskStreamView::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const Hit hit = hitAt(help->pos());
        if (hit.task != 0)
            QToolTip::showText(help->globalPos(), toolTipFor(hit), viewport());
        else
            QToolTip::hideText();
        return true;
    }
    if (event->type() == QEvent::Leave && m_hover.task != 0) {
        m_hover = Hit();
        viewport()->update();
    }
    return QAbstractScrollArea::viewportEvent(event);
}

} // namespace taskbench::inspect
