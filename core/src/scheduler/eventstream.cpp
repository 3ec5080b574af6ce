// The event stream's scheduler end: subscribers (a copy-on-write list and the union of the
// events they want), this round's events built in place, and their hand-over in bounded
// batches from pooled vectors.
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"

namespace taskbench::detail {

EventMask Engine::wantedBy(const std::vector<Subscriber> &subscribers)
{
    EventMask all = 0;
    for (const Subscriber &s : subscribers)
        all |= s.wanted;
    return all;
}

std::uint64_t Engine::subscribe(EventCallback plain, SharedEventCallback shared, EventMask wanted)
{
    std::lock_guard lock(m_subscribersMutex);
    auto next = std::make_shared<std::vector<Subscriber>>(*m_subscribers);
    const std::uint64_t id = m_nextSubscriber++;
    next->push_back(Subscriber{
        id, std::move(plain), std::move(shared), wanted, std::make_shared<SubscriberGate>()});
    m_wantedEvents.store(wantedBy(*next));
    m_subscribers = std::move(next);
    return id;
}

void Engine::unsubscribe(std::uint64_t id)
{
    std::shared_ptr<SubscriberGate> gate;
    {
        std::lock_guard lock(m_subscribersMutex);
        auto next = std::make_shared<std::vector<Subscriber>>(*m_subscribers);
        const auto it = std::find_if(
            next->begin(), next->end(), [id](const Subscriber &s) { return s.id == id; });
        if (it == next->end())
            return;
        gate = it->gate;
        next->erase(it);
        m_wantedEvents.store(wantedBy(*next));
        m_subscribers = std::move(next);
    }
    // A batch being handed over may still hold the old list: wait until this subscriber's
    // callback has returned. On the scheduler thread (from inside a callback) nothing else
    // can be delivering, and its own gate is already held there.
    if (std::this_thread::get_id() == m_thread.get_id()) {
        gate->open = false;
        return;
    }
    std::lock_guard lock(gate->mutex);
    gate->open = false;
}

void Engine::deliverEvents()
{
    if (std::this_thread::get_id() == m_thread.get_id()) {
        flushEvents();
        return;
    }
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    // Run on the scheduler thread, which owns the pending events; once closed, the
    // scheduler has handed over everything it had on its way out.
    if (post(QueryMsg{[this, done] {
            flushEvents();
            done->set_value();
        }}))
        f.wait();
}

Event &Engine::newEvent()
{
    // Handed over in batches of a bounded size, also in the middle of a round (a map of
    // 100,000 tasks makes 300,000 events in one): a batch stays in the cache, and its vector
    // comes back to the pool instead of growing page by page every round.
    if (m_events.size() >= kEventBatchSize)
        flushEvents();
    // Built in place: one is made per transition of every task while someone listens.
    return m_events.emplace_back();
}

void Engine::flushEvents()
{
    if (m_events.empty())
        return;
    std::shared_ptr<const std::vector<Subscriber>> subs;
    {
        std::lock_guard lock(m_subscribersMutex);
        subs = m_subscribers;
    }
    // Handed over, not copied: a subscriber that keeps the batch (a recorder, the GUI)
    // holds the pointer. Whoever drops it last destroys the events on its own thread and
    // gives the vector back to the pool.
    std::shared_ptr<EventBatchPool> pool = m_eventPool;
    EventBatchPtr batch(new EventBatch(std::move(m_events)), [pool](const EventBatch *b) {
        pool->giveBack(std::unique_ptr<EventBatch>(const_cast<EventBatch *>(b)));
    });
    m_events = m_eventPool->take();
    for (const Subscriber &s : *subs) {
        std::lock_guard gateLock(s.gate->mutex);
        if (!s.gate->open)
            continue;
        try {
            if (s.shared)
                s.shared(batch);
            else
                s.plain(*batch);
        } catch (const std::exception &e) {
            engineLog()->error("event subscriber threw: {}", e.what());
        } catch (...) {
            engineLog()->error("event subscriber threw a non-standard exception");
        }
    }
}

} // namespace taskbench::detail
