// The compact task table behind the inspect views.
#include "taskcatalog.h"

namespace taskbench::inspect {

namespace {
// Beyond this an id goes to the hash map instead of growing the dense vector.
constexpr std::uint64_t kDenseLimit = std::uint64_t(1) << 26;
} // namespace

std::uint32_t TaskCatalog::intern(std::string_view name,
                                  std::vector<std::string> &names,
                                  std::unordered_map<std::string, std::uint32_t> &index,
                                  std::uint32_t &last)
{
    if (last != npos && names[last] == name)
        return last;
    std::string s(name);
    auto it = index.find(s);
    if (it != index.end())
        return last = it->second;
    const auto i = std::uint32_t(names.size());
    names.push_back(s);
    index.emplace(std::move(s), i);
    return last = i;
}

std::uint32_t TaskCatalog::internFunction(std::string_view name)
{
    return intern(name, m_functions, m_functionIndex, m_lastFunction);
}

std::uint32_t TaskCatalog::internGroup(std::string_view name)
{
    return intern(name, m_groups, m_groupIndex, m_lastGroup);
}

std::uint32_t TaskCatalog::add(std::uint64_t id,
                               std::string_view key,
                               std::string_view function,
                               std::string_view group)
{
    std::uint32_t slot = slotOf(id);
    const std::uint32_t f = internFunction(function);
    const std::uint32_t g = internGroup(group.empty() ? function : group);
    if (slot != npos) {
        // Known (a placeholder, or the same task announced twice): refresh what we learnt.
        if (!key.empty() && key != this->key(slot)) {
            const std::string_view k = key.substr(0, kKeyBlockSize);
            m_keyOffset[slot] = storeKey(k);
            m_keyLength[slot] = std::uint32_t(k.size());
        }
        m_function[slot] = f;
        m_group[slot] = g;
        return slot;
    }
    slot = std::uint32_t(m_ids.size());
    m_ids.push_back(id);
    const std::string_view k = key.substr(0, kKeyBlockSize); // a key is never that long
    m_keyOffset.push_back(storeKey(k));
    m_keyLength.push_back(std::uint32_t(k.size()));
    m_function.push_back(f);
    m_group.push_back(g);
    if (id < kDenseLimit) {
        if (id >= m_slotById.size())
            m_slotById.resize(std::size_t(id) + 1, npos);
        m_slotById[std::size_t(id)] = slot;
    } else {
        m_sparse.emplace(id, slot);
    }
    return slot;
}

std::uint32_t TaskCatalog::storeKey(std::string_view key)
{
    if (m_keyBlocks.empty() || m_keyBlocks.back().size() + key.size() > kKeyBlockSize) {
        m_keyBlocks.emplace_back();
        m_keyBlocks.back().reserve(kKeyBlockSize);
    }
    std::string &block = m_keyBlocks.back();
    const auto at = std::uint32_t((m_keyBlocks.size() - 1) << kKeyBlockBits | block.size());
    block.append(key);
    return at;
}

std::uint32_t TaskCatalog::ensure(std::uint64_t id)
{
    const std::uint32_t slot = slotOf(id);
    return slot != npos ? slot : add(id, {}, "?", "?");
}

void TaskCatalog::clear()
{
    *this = TaskCatalog();
}

} // namespace taskbench::inspect
