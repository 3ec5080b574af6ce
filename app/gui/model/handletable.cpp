// HandleTable: runs of consecutive ids beside a hash map of lone handles (see handletable.h).
#include "handletable.h"

namespace taskbench::gui {

namespace {
bool consecutive(const std::vector<Future> &futures)
{
    for (std::size_t i = 1; i < futures.size(); ++i)
        if (!futures[i].valid() || futures[i].id() != futures[0].id() + i)
            return false;
    return !futures.empty() && futures[0].valid();
}
} // namespace

void HandleTable::insert(std::vector<Future> futures)
{
    // Small calls and odd runs are not worth a run; a run must not overlap a held id either
    // (a pure map may return futures the GUI already holds).
    bool asRun = futures.size() >= 64 && consecutive(futures);
    if (asRun) {
        const std::uint64_t first = futures.front().id();
        const std::uint64_t last = first + futures.size() - 1;
        auto next = m_runs.lower_bound(first);
        if (next != m_runs.end() && next->first <= last)
            asRun = false;
        else if (next != m_runs.begin()) {
            auto prev = std::prev(next);
            if (prev->first + prev->second.futures.size() > first)
                asRun = false;
        }
        for (auto it = m_single.begin(); asRun && it != m_single.end(); ++it)
            asRun = it->first < first || it->first > last;
        if (asRun) {
            Run run;
            run.held = futures.size();
            run.futures = std::move(futures);
            m_size += run.held;
            m_runs.emplace(first, std::move(run));
            return;
        }
    }
    for (const Future &f : futures)
        insert(f);
}

void HandleTable::insert(const Future &future)
{
    if (!future.valid() || contains(future.id()))
        return;
    m_single.emplace(future.id(), future);
    ++m_size;
}

const HandleTable::Run *HandleTable::runOf(std::uint64_t id, std::uint64_t *first) const
{
    auto it = m_runs.upper_bound(id);
    if (it == m_runs.begin())
        return nullptr;
    --it;
    if (id - it->first >= it->second.futures.size())
        return nullptr;
    *first = it->first;
    return &it->second;
}

const Future *HandleTable::find(std::uint64_t id) const
{
    std::uint64_t first = 0;
    if (const Run *run = runOf(id, &first)) {
        const Future &f = run->futures[std::size_t(id - first)];
        return f.valid() ? &f : nullptr;
    }
    auto it = m_single.find(id);
    return it == m_single.end() ? nullptr : &it->second;
}

bool HandleTable::erase(std::uint64_t id)
{
    auto it = m_runs.upper_bound(id);
    if (it != m_runs.begin() && id - std::prev(it)->first < std::prev(it)->second.futures.size()) {
        --it;
        Future &f = it->second.futures[std::size_t(id - it->first)];
        if (!f.valid())
            return false;
        f = Future();
        --m_size;
        if (--it->second.held == 0)
            m_runs.erase(it);
        return true;
    }
    if (m_single.erase(id) == 0)
        return false;
    --m_size;
    return true;
}

void HandleTable::clear()
{
    m_runs.clear();
    m_single.clear();
    m_size = 0;
}

} // namespace taskbench::gui
