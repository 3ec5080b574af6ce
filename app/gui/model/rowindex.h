// Row numbers by task id for a table whose rows are appended as tasks come. A map call's
// tasks have consecutive ids and land in consecutive rows, so they are kept as one run
// (first id, first row, count: 16 bytes for the whole map) instead of a hash node per task
// (about 40 bytes each, a million of them for a 1,000,000-task map). Ids that do not extend
// the last run start a new one; ids below it (out of order) go to a small hash map.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace taskbench::gui {

class RowIndex
{
public:
    /// Records that `id` is in `row` (an id not recorded yet).
    void insert(std::uint64_t id, int row);
    /// The row of `id`, or -1.
    int find(std::uint64_t id) const;
    bool contains(std::uint64_t id) const { return find(id) >= 0; }
    void clear();
    std::size_t size() const { return m_size; }

private:
    struct Run
    {
        std::uint64_t firstId = 0;
        int firstRow = 0;
        int count = 0;
    };
    std::vector<Run> m_runs; ///< ascending first ids, not overlapping
    std::unordered_map<std::uint64_t, int> m_single;
    std::size_t m_size = 0;
};

} // namespace taskbench::gui
