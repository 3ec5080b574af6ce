// RowIndex: runs of consecutive ids in consecutive rows, and the rest in a hash map.
#include "rowindex.h"

#include <algorithm>

namespace taskbench::gui {

void RowIndex::insert(std::uint64_t id, int row)
{
    ++m_size;
    if (!m_runs.empty()) {
        Run &last = m_runs.back();
        const std::uint64_t end = last.firstId + std::uint64_t(last.count);
        if (id == end && row == last.firstRow + last.count) {
            ++last.count;
            return;
        }
        if (id < end) {
            m_single.emplace(id, row);
            return;
        }
    }
    m_runs.push_back(Run{id, row, 1});
}

int RowIndex::find(std::uint64_t id) const
{
    auto it = std::upper_bound(m_runs.begin(), m_runs.end(), id, [](std::uint64_t v, const Run &r) {
        return v < r.firstId;
    });
    if (it != m_runs.begin()) {
        const Run &run = *std::prev(it);
        if (id < run.firstId + std::uint64_t(run.count))
            return run.firstRow + int(id - run.firstId);
    }
    const auto single = m_single.find(id);
    return single == m_single.end() ? -1 : single->second;
}

void RowIndex::clear()
{
    m_runs.clear();
    m_single.clear();
    m_size = 0;
}

} // namespace taskbench::gui
