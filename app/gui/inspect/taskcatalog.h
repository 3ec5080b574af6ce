// A compact table of the tasks an inspect view has seen: task id -> dense slot, the key (in
// a string arena), and interned function and group names. Slots are never reused until
// clear(), so other vectors indexed by slot stay valid; a 100,000-task map costs a few MB
// here, not an object per task. Everything is stored in fixed-size blocks (ChunkedVector,
// key blocks of 1 MiB): growing never copies, so a million-task map never stalls the GUI
// thread on a doubling buffer and its page faults.
#pragma once

#include "chunkedvector.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace taskbench::inspect {

class TaskCatalog
{
public:
    static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

    /// The slot of `id`, npos if unknown.
    std::uint32_t slotOf(std::uint64_t id) const
    {
        if (id < m_slotById.size())
            return m_slotById[std::size_t(id)];
        if (m_sparse.empty())
            return npos;
        auto it = m_sparse.find(id);
        return it == m_sparse.end() ? npos : it->second;
    }
    /// Adds a task (or returns the slot it already has).
    std::uint32_t
    add(std::uint64_t id, std::string_view key, std::string_view function, std::string_view group);
    /// The slot of `id`, adding a placeholder (empty key, function "?") if unknown: events of a
    /// task added before the view subscribed still find a home.
    std::uint32_t ensure(std::uint64_t id);

    std::size_t size() const { return m_ids.size(); }
    std::uint64_t id(std::uint32_t slot) const { return m_ids[slot]; }
    std::string_view key(std::uint32_t slot) const
    {
        const std::uint32_t at = m_keyOffset[slot];
        return std::string_view(m_keyBlocks[at >> kKeyBlockBits])
            .substr(at & (kKeyBlockSize - 1), m_keyLength[slot]);
    }
    std::uint32_t function(std::uint32_t slot) const { return m_function[slot]; }
    std::uint32_t group(std::uint32_t slot) const { return m_group[slot]; }

    std::size_t functionCount() const { return m_functions.size(); }
    const std::string &functionName(std::uint32_t f) const { return m_functions[f]; }
    std::size_t groupCount() const { return m_groups.size(); }
    const std::string &groupName(std::uint32_t g) const { return m_groups[g]; }
    /// The index of an interned function name (interned on first use).
    std::uint32_t internFunction(std::string_view name);
    std::uint32_t internGroup(std::string_view name);

    void clear();

private:
    static std::uint32_t intern(std::string_view name,
                                std::vector<std::string> &names,
                                std::unordered_map<std::string, std::uint32_t> &index,
                                std::uint32_t &last);

    static constexpr unsigned kKeyBlockBits = 20;
    static constexpr std::uint32_t kKeyBlockSize = 1u << kKeyBlockBits;
    /// Appends a key to the arena; its position (block << kKeyBlockBits | offset).
    std::uint32_t storeKey(std::string_view key);

    gui::ChunkedVector<std::uint64_t> m_ids;
    gui::ChunkedVector<std::uint32_t> m_keyOffset; ///< see storeKey()
    gui::ChunkedVector<std::uint32_t> m_keyLength;
    gui::ChunkedVector<std::uint32_t> m_function;
    gui::ChunkedVector<std::uint32_t> m_group;
    std::vector<std::string> m_keyBlocks; ///< each reserved once: keys never move
    // Engine ids are dense from 1, so a table maps them; absurdly large ids go to the map.
    gui::ChunkedVector<std::uint32_t> m_slotById;
    std::unordered_map<std::uint64_t, std::uint32_t> m_sparse;
    std::vector<std::string> m_functions;
    std::unordered_map<std::string, std::uint32_t> m_functionIndex;
    std::vector<std::string> m_groups;
    std::unordered_map<std::string, std::uint32_t> m_groupIndex;
    // A map call announces thousands of tasks of one function and group in a row.
    std::uint32_t m_lastFunction = npos;
    std::uint32_t m_lastGroup = npos;
};

} // namespace taskbench::inspect
