// The GUI's Future handles by task id. A map call's futures have consecutive ids, so they are
// kept as one run (the vector the engine returned, moved in whole) instead of 100,000 hash
// nodes: taking a big map's handles on the GUI thread was a 25 ms stall of node allocations.
// Lone futures (submit, edit & retry, a run that is not consecutive) go to a hash map.
#pragma once

#include "taskbench/client.h"

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

namespace taskbench::gui {

class HandleTable
{
public:
    /// Takes the handles (a map's result as it is). Ids already held keep their handle.
    void insert(std::vector<Future> futures);
    void insert(const Future &future);
    /// The held handle for `id`, or null.
    const Future *find(std::uint64_t id) const;
    bool contains(std::uint64_t id) const { return find(id) != nullptr; }
    /// Drops the handle; false if it was not held.
    bool erase(std::uint64_t id);
    void clear();
    std::size_t size() const { return m_size; }

private:
    struct Run
    {
        std::vector<Future> futures; ///< futures[i] has id first + i (invalid once erased)
        std::size_t held = 0;
    };
    const Run *runOf(std::uint64_t id, std::uint64_t *first) const;

    std::map<std::uint64_t, Run> m_runs; ///< by first id
    std::unordered_map<std::uint64_t, Future> m_single;
    std::size_t m_size = 0;
};

} // namespace taskbench::gui
