// The result cache's writer thread: batches of stores, last-use updates and removals in one
// transaction each, then least-recently-used eviction until the cache fits its bound.
#include "resultcache_p.h"

#include "taskbench/clock.h"
#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <iterator>

namespace taskbench::history {

using cachedetail::checksum;
using cachedetail::exec;
using cachedetail::kInlineBytes;

void SqliteResultCache::Impl::run()
{
    // First what the first lookup would otherwise do on the scheduler thread: hash the plugin
    // files and load the index, while the cluster starts its workers.
    for (const std::string &plugin : options.preloadPlugins) {
        std::lock_guard hlock(hashMutex);
        if (!fileHashes.count(plugin))
            fileHashes.emplace(plugin, fileSha256(plugin));
    }
    if (!options.preloadPlugins.empty()) {
        std::lock_guard ilock(indexMutex);
        if (!indexLoaded)
            loadIndex();
    }
    std::unique_lock lock(queueMutex);
    while (true) {
        queueCv.wait_for(
            lock, options.writeInterval, [this] { return stopping || requested != written; });
        std::vector<Store> s;
        std::vector<std::int64_t> t;
        std::vector<Named> r;
        s.swap(stores);
        t.swap(touches);
        r.swap(removals);
        const std::uint64_t generation = requested;
        const bool stop = stopping;
        lock.unlock();
        if (!s.empty() || !t.empty() || !r.empty()) {
            if (!write(s, t, r) && !stop) {
                // Locked by another process past the busy timeout: try again next time.
                lock.lock();
                stores.insert(stores.end(),
                              std::make_move_iterator(s.begin()),
                              std::make_move_iterator(s.end()));
                touches.insert(touches.end(), t.begin(), t.end());
                removals.insert(removals.end(), r.begin(), r.end());
                written = generation;
                flushedCv.notify_all();
                continue;
            }
        }
        lock.lock();
        written = generation;
        flushedCv.notify_all();
        if (stop && stores.empty() && touches.empty() && removals.empty())
            return;
    }
}

bool SqliteResultCache::Impl::write(std::vector<Store> &s,
                                    std::vector<std::int64_t> &t,
                                    std::vector<Named> &r)
{
    std::lock_guard wlock(writeMutex);
    std::vector<Origin> originsNow;
    {
        std::lock_guard ilock(indexMutex);
        originsNow = origins;
    }
    std::string e;
    if (!exec(writer, "BEGIN IMMEDIATE", &e)) {
        log::get("history")->warn("result cache: cannot write: {}", e);
        return false;
    }
    auto nextUse = [this] {
        lastUsedUs = std::max(wallClockUs(), lastUsedUs + 1);
        return lastUsedUs;
    };
    struct Added
    {
        std::string key;
        std::int64_t rowid;
        std::uint32_t origin;
        std::int64_t session;
        bool inlined;
        Value value;
    };
    std::vector<Added> added;
    std::string bytes;
    bool failed = false;
    // Removals first: a damaged entry's recomputed value may be in this very batch.
    for (const Named &x : r) {
        if (failed)
            break;
        const Origin &o = originsNow[x.origin];
        remove.copyText(1, x.key);
        remove.copyText(2, o.function);
        remove.copyText(3, o.sha);
        failed = remove.step() != SQLITE_DONE;
        remove.reset();
    }
    for (Store &st : s) {
        bytes.clear();
        appendCbor(bytes, st.value);
        // The history keeps a result's JSON up to its limit: what it does not keep, the
        // cache does not serve either.
        if (bytes.size() > options.resultLimitBytes
            || toJson(st.value).size() > options.resultLimitBytes)
            continue;
        const Origin &o = originsNow[st.origin];
        insert.copyText(1, st.key);
        insert.copyText(2, o.function);
        insert.copyText(3, o.sha);
        insert.copyBlob(4, bytes);
        insert.number(5, checksum(st.key, bytes));
        insert.number(
            6, std::int64_t(bytes.size() + st.key.size() + o.function.size() + o.sha.size()));
        insert.number(7, nextUse());
        insert.number(8, st.session);
        const int rc = insert.step();
        insert.reset();
        if (rc != SQLITE_DONE) {
            log::get("history")->warn(
                "result cache: cannot store {}: {}", st.key, sqlite3_errmsg(writer));
            failed = true;
            break;
        }
        const bool inl = bytes.size() <= kInlineBytes;
        added.push_back(Added{st.key,
                              sqlite3_last_insert_rowid(writer),
                              st.origin,
                              st.session,
                              inl,
                              inl ? st.value : Value()});
    }
    if (!t.empty() && !failed) {
        std::string rowids = "[";
        for (std::int64_t id : t) {
            rowids += std::to_string(id);
            rowids += ',';
        }
        rowids.back() = ']';
        touch.number(1, nextUse());
        touch.copyText(2, rowids);
        failed = touch.step() != SQLITE_DONE;
        touch.reset();
    }
    // Least recently used first, until the cache fits (the sum covers other processes' rows).
    std::vector<std::string> gone;
    if (!failed && !s.empty()) {
        Statement total;
        std::int64_t bytesNow = 0;
        if (total.prepare(writer, "SELECT total(size) FROM result_cache")
            && total.step() == SQLITE_ROW)
            bytesNow = total.columnInt(0);
        if (std::uint64_t(bytesNow) > options.maxBytes) {
            Statement oldest, drop;
            if (oldest.prepare(
                    writer, "SELECT rowid, key, size FROM result_cache ORDER BY last_used, rowid")
                && drop.prepare(writer, "DELETE FROM result_cache WHERE rowid=?")) {
                std::vector<std::int64_t> rows;
                while (std::uint64_t(bytesNow) > options.maxBytes && oldest.step() == SQLITE_ROW) {
                    rows.push_back(oldest.columnInt(0));
                    gone.emplace_back(oldest.columnText(1));
                    bytesNow -= oldest.columnInt(2);
                }
                oldest.reset();
                for (std::int64_t row : rows) {
                    drop.number(1, row);
                    failed = failed || drop.step() != SQLITE_DONE;
                    drop.reset();
                }
            }
        }
    }
    if (failed || !exec(writer, "COMMIT", &e)) {
        log::get("history")->warn("result cache: write failed: {}",
                                  failed ? sqlite3_errmsg(writer) : e);
        exec(writer, "ROLLBACK", nullptr);
        return false;
    }
    stored += added.size();
    evicted += gone.size();
    std::lock_guard ilock(indexMutex);
    if (!indexLoaded) // loaded later, from the database as written now
        return true;
    for (const Named &x : r) {
        auto it = index.find(x.key);
        if (it != index.end() && it->second.origin == x.origin)
            index.erase(it);
    }
    for (Added &a : added)
        index.insert_or_assign(std::move(a.key),
                               Entry{a.rowid, a.origin, a.session, a.inlined, std::move(a.value)});
    for (const std::string &key : gone)
        index.erase(key);
    return true;
}

} // namespace taskbench::history
