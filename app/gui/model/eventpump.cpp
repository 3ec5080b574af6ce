#include "eventpump.h"

#include "batchinbox.h"

#include <QElapsedTimer>

#include <algorithm>

namespace taskbench::gui {

struct EventPump::Inbox
{
    BatchInbox<EventBatchPtr> batches; ///< the engine's batches, shared (never copied)
};

namespace {

/// Frame period: events are handed on at most ~30 times a second.
constexpr int kFrameMs = 33;
/// Work per frame: chunks are handed on until this budget is spent.
constexpr qint64 kFrameBudgetMs = 12;
constexpr std::size_t kChunkEvents = 4096;
/// Tasks per slice of a big TasksAdded (as many rows as a chunk of TaskAdded events made).
constexpr std::size_t kSliceTasks = 4096;

bool isBigSubmit(const Event &e)
{
    return e.kind == EventKind::TasksAdded && e.tasks() && e.tasks()->size() > kSliceTasks;
}
/// Pause between catch-up slices when a frame could not hand on everything.
constexpr int kCatchUpMs = 4;

} // namespace

EventPump::EventPump(QObject *parent)
    : QObject(parent)
{
    m_frameTimer.setSingleShot(true);
    m_frameTimer.setInterval(kFrameMs);
    connect(&m_frameTimer, &QTimer::timeout, this, [this] { applyFrame(false); });
}

EventPump::~EventPump()
{
    detach();
}

void EventPump::attach(Client &client, EventMask kinds)
{
    detach();
    m_inbox = std::make_shared<Inbox>();
    // Runs on the engine thread under the inbox lock: post only.
    m_inbox->batches.setWake([this] {
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (!m_frameTimer.isActive())
                    m_frameTimer.start(kFrameMs);
            },
            Qt::QueuedConnection);
    });
    std::shared_ptr<Inbox> inbox = m_inbox;
    m_subscription = client.subscribeShared(
        [inbox](const EventBatchPtr &batch) { inbox->batches.push(batch); }, kinds);
}

void EventPump::detach()
{
    m_frameTimer.stop();
    if (m_inbox)
        m_inbox->batches.disconnect();
    m_subscription.reset();
    m_inbox.reset();
    m_backlog.clear();
    m_backlogPos = 0;
    m_slicePos = 0;
}

void EventPump::flushNow()
{
    m_frameTimer.stop();
    applyFrame(true);
}

void EventPump::applyFrame(bool all)
{
    if (!m_inbox)
        return;
    for (EventBatchPtr &b : m_inbox->batches.take())
        if (b && !b->empty())
            m_backlog.push_back(std::move(b));
    if (m_backlog.empty())
        return;
    QElapsedTimer budget;
    budget.start();
    bool workersChanged = false;
    while (!m_backlog.empty()) {
        const EventBatch &b = *m_backlog.front();
        const Event *first = b.data() + m_backlogPos;
        if (isBigSubmit(*first)) {
            if (handOnSlice(*first))
                ++m_backlogPos;
        } else {
            // Up to the next big submit, which goes in slices.
            std::size_t n = std::min(kChunkEvents, b.size() - m_backlogPos);
            for (std::size_t i = 1; i < n; ++i)
                if (isBigSubmit(first[i])) {
                    n = i;
                    break;
                }
            for (const Event *e = first; e != first + n; ++e)
                if (e->kind == EventKind::WorkerAdded || e->kind == EventKind::WorkerRemoved)
                    workersChanged = true;
            emit eventsApplied(first, first + n);
            m_backlogPos += n;
        }
        if (m_backlogPos == b.size()) {
            m_backlog.pop_front();
            m_backlogPos = 0;
        }
        if (!all && budget.elapsed() >= kFrameBudgetMs)
            break;
    }
    if (!m_backlog.empty())
        m_frameTimer.start(kCatchUpMs); // more to hand on: come back after input and paint
    emit frameApplied(workersChanged);
}

bool EventPump::handOnSlice(const Event &e)
{
    const TaskList &all = *e.tasks();
    const std::size_t end = std::min(all.size(), m_slicePos + kSliceTasks);
    auto slice = std::make_shared<TaskList>();
    slice->reserve(end - m_slicePos, 0);
    for (std::size_t i = m_slicePos; i < end; ++i) {
        slice->add(all.id(i), all.key(i));
        for (std::uint64_t dep : all.deps(i))
            slice->addDep(dep);
        slice->endDeps();
    }
    Event part;
    part.kind = EventKind::TasksAdded;
    part.task = all.id(m_slicePos);
    part.timeUs = e.timeUs;
    EventDetail &d = part.detail();
    d.function = e.function();
    d.group = e.sharedDetail()->group;
    d.tasks = std::move(slice);
    emit eventsApplied(&part, &part + 1);
    m_slicePos = end;
    if (m_slicePos < all.size())
        return false;
    m_slicePos = 0;
    return true;
}

} // namespace taskbench::gui
