// The event's detail: made on first write, shared by copies, unshared before a write.
#include "taskbench/events.h"

namespace taskbench {

EventDetail &Event::detail()
{
    if (!m_detail || m_detail.use_count() > 1)
        m_detail
            = m_detail ? std::make_shared<EventDetail>(*m_detail) : std::make_shared<EventDetail>();
    return *m_detail;
}

const std::string &Event::group() const
{
    static const std::string none;
    return m_detail && m_detail->group ? *m_detail->group : none;
}

const EventDetail &Event::detailOrEmpty() const
{
    static const EventDetail empty;
    return m_detail ? *m_detail : empty;
}

static_assert(sizeof(Event) == 64, "an Event is one cache line (see events.h)");

} // namespace taskbench
