// The order tasks started in: a subscriber to ExecutionStarted for the tests of priorities,
// run-next and pause. The ids are kept behind a shared_ptr because the engine may still call
// a subscriber on its snapshot of the list just after it unsubscribed.
#pragma once

#include "taskbench/client.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace taskbench::testsupport {

class StartOrder
{
public:
    explicit StartOrder(Client &client)
        : m_sub(client.subscribe(
            [state = m_state](const EventBatch &batch) {
                std::lock_guard lock(state->mutex);
                for (const Event &e : batch)
                    if (e.kind == EventKind::ExecutionStarted)
                        state->ids.push_back(e.task);
            },
            eventBit(EventKind::ExecutionStarted)))
    {}

    /// The started tasks so far, first start first (call Client::deliverEvents() before, to
    /// see every start the engine has made).
    std::vector<std::uint64_t> ids() const
    {
        std::lock_guard lock(m_state->mutex);
        return m_state->ids;
    }

private:
    struct State
    {
        std::mutex mutex;
        std::vector<std::uint64_t> ids;
    };
    std::shared_ptr<State> m_state = std::make_shared<State>();
    Subscription m_sub; ///< after m_state: initialised with it
};

} // namespace taskbench::testsupport
