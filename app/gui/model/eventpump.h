// The engine's events on the GUI thread. Batches arrive on the scheduler thread, where the
// subscription only appends them to a BatchInbox; the GUI thread drains it on a ~30 Hz
// single-shot timer and hands them on in chunks for at most a frame's time budget, so a
// 100,000-task map never freezes the window (the rest comes after input and paint). A big
// submit's TasksAdded (one event for a million tasks) is handed on in slices of its list,
// each a TasksAdded of its own, for the same reason.
// Every per-task model and view feeds on eventsApplied(); none subscribes to the engine.
#pragma once

#include "taskbench/client.h"
#include "taskbench/events.h"

#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>

namespace taskbench::gui {

class EventPump : public QObject
{
    Q_OBJECT
public:
    explicit EventPump(QObject *parent = nullptr);
    ~EventPump() override;

    /// Subscribes to `client`'s events of these kinds (any earlier subscription ends).
    void attach(Client &client, EventMask kinds);
    /// Ends the subscription and drops what was not handed on yet.
    void detach();
    /// Hands on whatever is waiting now instead of at the next frame (tests, demo).
    void flushNow();

signals:
    /// One chunk of events, in order (GUI thread).
    void eventsApplied(const taskbench::Event *begin, const taskbench::Event *end);
    /// After every frame of chunks; `workersChanged`: a worker came or went in it.
    void frameApplied(bool workersChanged);

private:
    struct Inbox;
    void applyFrame(bool all);
    /// Hands on the next slice of the big TasksAdded `e`; true once its last slice is out.
    bool handOnSlice(const Event &e);

    std::shared_ptr<Inbox> m_inbox;
    Subscription m_subscription;
    std::deque<EventBatchPtr> m_backlog; ///< taken from the inbox, not handed on yet
    std::size_t m_backlogPos = 0;        ///< next event of m_backlog.front()
    std::size_t m_slicePos = 0;          ///< next task of a big TasksAdded there
    QTimer m_frameTimer;
};

} // namespace taskbench::gui
