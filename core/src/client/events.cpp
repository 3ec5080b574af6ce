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

void TaskList::reserve(std::size_t tasks, std::size_t keyChars)
{
    m_ids.reserve(tasks);
    m_keyEnds.reserve(tasks);
    m_depEnds.reserve(tasks);
    m_keyChars.reserve(keyChars);
}

void TaskList::add(std::uint64_t id, std::string_view key)
{
    m_ids.push_back(id);
    m_keyChars.append(key);
    m_keyEnds.push_back(m_keyChars.size());
}

std::string_view TaskList::key(std::size_t i) const
{
    const std::size_t begin = i == 0 ? 0 : m_keyEnds[i - 1];
    return std::string_view(m_keyChars).substr(begin, m_keyEnds[i] - begin);
}

std::span<const std::uint64_t> TaskList::deps(std::size_t i) const
{
    const std::size_t begin = i == 0 ? 0 : m_depEnds[i - 1];
    return std::span<const std::uint64_t>(m_deps).subspan(begin, m_depEnds[i] - begin);
}

static_assert(sizeof(Event) == 88, "an Event stays small (see events.h)");

} // namespace taskbench
