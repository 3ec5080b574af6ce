// The inside of SqliteResultCache, shared by its two halves: resultcache.cpp (opening, the
// in-memory index, lookups on the scheduler thread, the public calls) and
// resultcachewriter.cpp (the writer thread: stores, last-use updates, removals, eviction).
#pragma once

#include "sqlstatement_p.h"

#include "taskbench/history/resultcache.h"
#include "taskbench/value.h"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace taskbench::history {

namespace cachedetail {

/// Values whose CBOR is at most this long are kept decoded in the index: a hit on them
/// reads nothing (a map of small results, the common case, is served from memory).
constexpr std::size_t kInlineBytes = 256;

/// FNV-1a over the key and the value's bytes: a row whose bytes were damaged, or moved to
/// another key, fails it.
inline std::int64_t checksum(std::string_view key, std::string_view bytes)
{
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    mix(key);
    mix(std::string_view("\0", 1));
    mix(bytes);
    return std::int64_t(h);
}

struct TransparentHash
{
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

inline bool exec(sqlite3 *db, const char *sql, std::string *error)
{
    char *message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK)
        return true;
    if (error)
        *error = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
}

} // namespace cachedetail

struct SqliteResultCache::Impl
{
    ResultCacheOptions options;
    std::string path;
    mutable std::mutex errorMutex;
    std::string error;
    bool ok = false;

    sqlite3 *reader = nullptr; ///< lookups (the scheduler thread)
    sqlite3 *writer = nullptr; ///< the writer thread, stats() and clear(), under writeMutex
    std::mutex writeMutex;
    Statement readValue;
    Statement insert, touch, remove;

    // The index. An origin is a function and the SHA-256 of its plugin file.
    struct Origin
    {
        std::string function;
        std::string sha;
    };
    struct Entry
    {
        std::int64_t rowid = 0; ///< for last-use updates (stale if another process replaced it)
        std::uint32_t origin = 0;
        std::int64_t session = 0;
        bool inlined = false;
        Value value; ///< when inlined
    };
    std::mutex indexMutex;
    bool indexLoaded = false;
    std::vector<Origin> origins;
    std::unordered_map<std::string, std::uint32_t> originIds; ///< "function\nsha"
    std::unordered_map<std::string, Entry, cachedetail::TransparentHash, std::equal_to<>> index;

    // Scheduler thread only: the last function asked about and its origin.
    const FunctionInfo *lastFunction = nullptr;
    std::string lastPath, lastName;
    std::uint32_t lastOrigin = 0;
    bool lastUsable = false;
    std::mutex hashMutex; ///< fileHashes: the writer thread fills it first (preloadPlugins)
    std::unordered_map<std::string, std::string> fileHashes; ///< plugin path -> SHA-256

    // What the writer thread writes next.
    struct Store
    {
        std::string key;
        std::uint32_t origin;
        std::int64_t session;
        Value value;
    };
    /// An entry named by its key and origin (to remove: a damaged or vanished one).
    struct Named
    {
        std::string key;
        std::uint32_t origin;
    };
    std::mutex queueMutex;
    std::condition_variable queueCv;
    std::condition_variable flushedCv;
    std::vector<Store> stores;
    std::vector<std::int64_t> touches; ///< row ids of entries just used
    std::vector<Named> removals;
    std::uint64_t requested = 0; ///< flush generations asked for
    std::uint64_t written = 0;   ///< flush generations done
    bool stopping = false;
    std::atomic<std::int64_t> session{0};
    std::thread thread;
    std::int64_t lastUsedUs = 0; ///< writer thread: strictly increasing last_used

    std::atomic<std::uint64_t> hits{0}, misses{0}, stored{0}, evicted{0}, corrupt{0};

    void setError(const std::string &e)
    {
        std::lock_guard lock(errorMutex);
        error = e;
    }
    bool open();
    void loadIndex();
    std::uint32_t originId(const std::string &function, const std::string &sha);
    /// The origin of a function now; false for functions that are not from a readable file.
    bool originOf(const FunctionInfo &fn, std::uint32_t &origin);
    std::optional<Value>
    readRow(std::string_view key, const Origin &o, std::int64_t &session, std::int64_t &rowid);
    void run();
    bool write(std::vector<Store> &s, std::vector<std::int64_t> &t, std::vector<Named> &r);
};

} // namespace taskbench::history
