// A ResultCache in memory for engine tests: keeps every stored value by key (and function
// name), answers hits as from session 7, counts lookups and stores, and can be made to throw.
#pragma once

#include "taskbench/functionregistry.h"
#include "taskbench/resultcache.h"

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace taskbench::testsupport {

/// Keeps every stored value by key; counts what the engine asks.
class MemoryResultCache : public ResultCache
{
public:
    void lookup(const std::vector<CacheRequest> &requests,
                std::vector<std::optional<CacheHit>> &out) override
    {
        std::lock_guard lock(m_mutex);
        if (m_throw)
            throw std::runtime_error("the cache is broken");
        out.clear();
        for (const CacheRequest &q : requests) {
            ++lookups;
            auto it = m_values.find(std::string(q.key));
            if (it == m_values.end() || it->second.first != q.function->qualifiedName)
                out.emplace_back();
            else
                out.push_back(CacheHit{it->second.second, 7});
        }
    }
    void store(const FunctionInfo &function, std::string_view key, const Value &value) override
    {
        std::lock_guard lock(m_mutex);
        ++stores;
        m_values[std::string(key)] = {function.qualifiedName, value};
    }
    void setThrowing(bool on)
    {
        std::lock_guard lock(m_mutex);
        m_throw = on;
    }
    std::size_t size()
    {
        std::lock_guard lock(m_mutex);
        return m_values.size();
    }
    std::atomic<int> lookups{0};
    std::atomic<int> stores{0};

private:
    std::mutex m_mutex;
    std::map<std::string, std::pair<std::string, Value>> m_values;
    bool m_throw = false;
};

} // namespace taskbench::testsupport
