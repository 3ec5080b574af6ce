// A thread-safe hand-off of items from producer threads (the engine's scheduler thread, log
// sinks) to the GUI thread. Producers append under a short lock; the first append after a
// drain calls `wake` once, so the GUI thread gets one queued notification per frame instead
// of one per item, and never blocks on the producer.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace taskbench::gui {

template <class T>
class BatchInbox
{
public:
    /// `wake` runs on the producer thread under the inbox lock; it must only post an event
    /// (never block, never call back into the inbox).
    explicit BatchInbox(std::function<void()> wake = {})
        : m_wake(std::move(wake))
    {}

    void setWake(std::function<void()> wake)
    {
        std::lock_guard lock(m_mutex);
        m_wake = std::move(wake);
    }

    void push(T item)
    {
        std::lock_guard lock(m_mutex);
        m_items.push_back(std::move(item));
        notifyLocked();
    }

    template <class It>
    void pushRange(It first, It last)
    {
        std::lock_guard lock(m_mutex);
        m_items.insert(m_items.end(), first, last);
        notifyLocked();
    }

    /// Everything pushed since the last call; re-arms the wake-up.
    std::vector<T> take()
    {
        std::vector<T> out;
        std::lock_guard lock(m_mutex);
        out.swap(m_items);
        m_notified = false;
        return out;
    }

    bool empty() const
    {
        std::lock_guard lock(m_mutex);
        return m_items.empty();
    }

    /// Stops notifying (the consumer is going away); items are still kept.
    void disconnect()
    {
        std::lock_guard lock(m_mutex);
        m_wake = nullptr;
    }

private:
    // The wake-up runs under the lock, so once disconnect() returns no wake-up is running or
    // will run: the consumer may then be destroyed safely.
    void notifyLocked()
    {
        if (!m_notified && m_wake) {
            m_notified = true;
            m_wake();
        }
    }

    mutable std::mutex m_mutex;
    std::vector<T> m_items;
    bool m_notified = false;
    std::function<void()> m_wake;
};

} // namespace taskbench::gui
