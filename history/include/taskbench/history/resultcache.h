// The result cache across sessions, in the run history database (table result_cache beside
// the history's own tables): the ResultCache the engine consults for pure tasks
// (ClusterOptions::resultCache).
//
// An entry is (key, function, SHA-256 of the plugin file, the value's canonical CBOR, a
// checksum, size, last use, session that computed it). A lookup matches key, function and
// the SHA-256 of the file the function was loaded from now, so a rebuilt plugin misses its
// old entries. Results larger than the history keeps (resultLimitBytes, as the recorder's)
// and functions that are not from a plugin file are never stored.
//
// Cost: misses are answered from an in-memory index (key -> function, plugin hash, small
// values inline) loaded on the first lookup; a hit on a larger value reads that row. Stores,
// last-use updates, corrupt-entry removals and least-recently-used eviction (past maxBytes)
// are queued and written by a thread of its own in one transaction per writeInterval, on a
// second connection: the scheduler thread never waits for a write. WAL mode and SQLite's
// locking let several processes share one database; a write that meets a lock waits
// (busy timeout) and is retried at the next interval.
//
// Bad data: an entry whose bytes fail their checksum or no longer decode is a miss (logged on
// the "history" logger, and deleted), never a wrong value.
//
// Thread safety: lookup() and store() may be called from any one thread at a time (the
// scheduler's); flush(), stats() and clear() from any thread.
#pragma once

#include "taskbench/resultcache.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace taskbench::history {

struct ResultCacheOptions
{
    std::string databasePath;                 ///< empty: HistoryStore::defaultPath()
    std::uint64_t maxBytes = 256ull << 20;    ///< entries past this are evicted, oldest use first
    std::size_t resultLimitBytes = 64 * 1024; ///< as RecorderOptions: larger results are not kept
    std::chrono::milliseconds writeInterval{200};
    bool readOnly = false; ///< lookups only: store() and last-use updates are dropped
    /// Plugin files to hash and the index to load at once, on the cache's own thread (while
    /// the cluster starts), instead of in the first lookup on the scheduler thread.
    std::vector<std::string> preloadPlugins;
};

struct ResultCacheStats
{
    std::int64_t entries = 0; ///< in the database
    std::int64_t bytes = 0;   ///< their sizes (value, key and names)
    std::uint64_t maxBytes = 0;
    // This object's own counts.
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t stored = 0;
    std::uint64_t evicted = 0;
    std::uint64_t corrupt = 0; ///< entries that failed their checksum or did not decode
};

class SqliteResultCache : public ResultCache
{
public:
    /// Opens (creating as needed) the database; check ok(). A cache that is not ok answers
    /// every lookup with a miss and stores nothing.
    explicit SqliteResultCache(ResultCacheOptions options = {});
    ~SqliteResultCache() override; ///< writes what is queued
    SqliteResultCache(const SqliteResultCache &) = delete;
    SqliteResultCache &operator=(const SqliteResultCache &) = delete;

    bool ok() const;
    std::string errorString() const;
    const std::string &path() const;

    /// The session new entries are stored under (the recorder's session id; 0: none).
    void setSession(std::int64_t session);

    void lookup(const std::vector<CacheRequest> &requests,
                std::vector<std::optional<CacheHit>> &out) override;
    void store(const FunctionInfo &function, std::string_view key, const Value &value) override;

    /// Blocks until everything queued so far is written.
    void flush();
    ResultCacheStats stats();
    /// Deletes every entry. False with errorString() when the database refused.
    bool clear();

    /// SHA-256 of a file, hex; "" if it cannot be read.
    static std::string fileSha256(const std::string &path);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace taskbench::history
