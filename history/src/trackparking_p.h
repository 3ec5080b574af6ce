// TrackParking: futures handed to Recorder::track() before any event of their task came.
// A GUI map tracks its futures as soon as the engine returns them, before the recorder has
// folded the map's events; a row made for each then (key, arguments, the future) would
// hold a row for every task of the map at once. Parked, a future costs 8 bytes here plus
// its slot in the parked list, and becomes part of its row when the task's first event
// makes one (SessionRows::row()). Used on the recorder thread only.
#pragma once

#include "taskbench/client.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace taskbench::history {

class TrackParking
{
public:
    struct Parked
    {
        Future future;
        std::shared_ptr<const std::string> optionsJson;
    };

    /// Starts a list of futures tracked together (one track() call, or one range of it).
    void beginList(std::shared_ptr<const std::string> optionsJson)
    {
        m_lists.push_back(List{{}, std::move(optionsJson), 0});
    }
    /// Parks `future` (of task `id`) in the list begun last.
    void park(std::uint64_t id, Future future)
    {
        List &list = m_lists.back();
        const Ref ref{std::uint32_t(m_lists.size()), std::uint32_t(list.futures.size())};
        list.futures.push_back(std::move(future));
        ++list.parked;
        if (Ref *slot = slotOf(id, true); slot->list == 0) {
            *slot = ref;
            ++m_count;
        } else { // tracked twice before its events came: the later one counts
            release(*slot);
            *slot = ref;
        }
    }
    /// The parked future of task `id`, taken out, if there is one.
    std::optional<Parked> take(std::uint64_t id)
    {
        if (m_count == 0)
            return std::nullopt;
        Ref *slot = slotOf(id, false);
        if (!slot || slot->list == 0)
            return std::nullopt;
        const Ref ref = *slot;
        *slot = Ref{};
        List &list = m_lists[ref.list - 1];
        Parked p{std::move(list.futures[ref.index]), list.optionsJson};
        release(ref);
        if (--m_count == 0)
            clear();
        return p;
    }
    /// Every parked task's id.
    std::vector<std::uint64_t> ids() const
    {
        std::vector<std::uint64_t> out;
        for (std::size_t b = 0; b < m_blocks.size(); ++b)
            if (m_blocks[b])
                for (std::size_t i = 0; i < kBlock; ++i)
                    if ((*m_blocks[b])[i].list != 0)
                        out.push_back(b * kBlock + i);
        for (const auto &[id, ref] : m_far)
            if (ref.list != 0)
                out.push_back(id);
        return out;
    }
    bool empty() const { return m_count == 0; }
    std::size_t size() const { return m_count; }
    void clear()
    {
        m_blocks.clear();
        m_far.clear();
        m_lists.clear();
        m_count = 0;
    }

private:
    static constexpr std::uint64_t kBlock = 4096;
    static constexpr std::uint64_t kMaxBlocks = 1 << 16;
    struct Ref
    {
        std::uint32_t list = 0; ///< 1-based index into m_lists; 0: nothing parked
        std::uint32_t index = 0;
    };
    struct List
    {
        std::vector<Future> futures;
        std::shared_ptr<const std::string> optionsJson;
        std::size_t parked = 0; ///< futures not taken yet: the list frees them at 0
    };

    Ref *slotOf(std::uint64_t id, bool make)
    {
        if (id / kBlock >= kMaxBlocks) {
            if (!make) {
                auto it = m_far.find(id);
                return it == m_far.end() ? nullptr : &it->second;
            }
            return &m_far[id];
        }
        const std::size_t b = id / kBlock;
        if (b >= m_blocks.size()) {
            if (!make)
                return nullptr;
            m_blocks.resize(b + 1);
        }
        if (!m_blocks[b]) {
            if (!make)
                return nullptr;
            m_blocks[b] = std::make_unique<std::array<Ref, kBlock>>();
        }
        return &(*m_blocks[b])[id % kBlock];
    }
    void release(const Ref &ref)
    {
        List &list = m_lists[ref.list - 1];
        list.futures[ref.index] = Future();
        if (--list.parked == 0)
            list.futures = {}; // its memory back before the other lists are done
    }

    std::vector<std::unique_ptr<std::array<Ref, kBlock>>> m_blocks;
    std::unordered_map<std::uint64_t, Ref> m_far;
    std::vector<List> m_lists;
    std::size_t m_count = 0;
};

} // namespace taskbench::history
