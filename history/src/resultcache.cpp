// SqliteResultCache: the result cache in the history database. Two SQLite connections (C
// API, serialized mode): one read by the scheduler thread for hits on values that are not
// kept in memory, one owned by the writer thread for stores, last-use updates, removals and
// eviction. The in-memory index answers misses without touching the database.
#include "taskbench/history/resultcache.h"

#include "filehash_p.h"
#include "resultcache_p.h"
#include "schema_p.h"

#include "taskbench/history/historystore.h"
#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <iterator>

namespace taskbench::history {

using cachedetail::checksum;
using cachedetail::exec;

bool SqliteResultCache::Impl::open()
{
    {
        // Creates the folders and the history schema, and moves a corrupt file aside.
        HistoryStore store;
        if (!store.open(path)) {
            setError(store.errorString());
            return false;
        }
        for (const std::string &notice : store.notices())
            log::get("history")->warn("{}", notice);
    }
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path.c_str(), &writer, flags, nullptr) != SQLITE_OK
        || sqlite3_open_v2(path.c_str(), &reader, flags, nullptr) != SQLITE_OK) {
        setError(
            "cannot open " + path + ": "
            + sqlite3_errmsg(writer && sqlite3_errcode(writer) != SQLITE_OK ? writer : reader));
        return false;
    }
    // Another process may hold the write lock for a while: writes wait; a read never needs
    // it in WAL mode, so the scheduler's short wait only covers a checkpoint's moment.
    sqlite3_busy_timeout(writer, 10000);
    sqlite3_busy_timeout(reader, 200);
    std::string e;
    if (!exec(writer, "PRAGMA journal_mode=WAL", &e)
        || !exec(writer, "PRAGMA synchronous=NORMAL", &e)
        || !exec(writer, schema::kCreateResultCache, &e)
        // A rerun of a big map reads and touches an entry per task: with SQLite's default
        // 2 MiB page cache every lookup is a pread. (No mmap: another process sharing the
        // file may truncate it in a checkpoint, and a mapped read would then fault.)
        || !exec(writer, "PRAGMA cache_size=-32768", &e)
        || !exec(reader, "PRAGMA cache_size=-32768", &e)) {
        setError("result cache in " + path + ": " + e);
        return false;
    }
    if (!insert.prepare(writer, schema::kStoreCached)
        || !touch.prepare(writer, schema::kTouchCached)
        || !remove.prepare(writer, schema::kRemoveCached)
        || !readValue.prepare(reader, schema::kReadCached)) {
        setError(std::string("result cache: ") + sqlite3_errmsg(writer));
        return false;
    }
    return true;
}

std::uint32_t SqliteResultCache::Impl::originId(const std::string &function, const std::string &sha)
{
    const std::string name = function + '\n' + sha;
    auto it = originIds.find(name);
    if (it != originIds.end())
        return it->second;
    origins.push_back(Origin{function, sha});
    const auto id = std::uint32_t(origins.size() - 1);
    originIds.emplace(name, id);
    return id;
}

bool SqliteResultCache::Impl::originOf(const FunctionInfo &fn, std::uint32_t &origin)
{
    if (lastFunction == &fn && lastPath == fn.pluginPath && lastName == fn.qualifiedName) {
        origin = lastOrigin;
        return lastUsable;
    }
    lastFunction = &fn;
    lastPath = fn.pluginPath;
    lastName = fn.qualifiedName;
    lastUsable = false;
    if (fn.pluginPath.empty()) // a host function: no file says which code it is
        return false;
    std::string sha;
    {
        std::lock_guard lock(hashMutex);
        auto it = fileHashes.find(fn.pluginPath);
        if (it == fileHashes.end())
            it = fileHashes.emplace(fn.pluginPath, fileSha256(fn.pluginPath)).first;
        sha = it->second;
    }
    if (sha.empty())
        return false;
    {
        std::lock_guard lock(indexMutex);
        lastOrigin = originId(fn.qualifiedName, sha);
    }
    lastUsable = true;
    origin = lastOrigin;
    return true;
}

void SqliteResultCache::Impl::loadIndex()
{
    // Called with indexMutex held, once.
    indexLoaded = true;
    Statement all;
    if (!all.prepare(reader,
                     "SELECT key, function, plugin_sha256, session_id, checksum, "
                     "CASE WHEN length(value) <= 256 THEN value END, rowid FROM result_cache")) {
        log::get("history")->warn("result cache: cannot read the index: {}",
                                  sqlite3_errmsg(reader));
        return;
    }
    int rc;
    std::vector<Named> bad;
    while ((rc = all.step()) == SQLITE_ROW) {
        Entry e;
        e.rowid = all.columnInt(6);
        const std::string key(all.columnText(0));
        e.origin = originId(std::string(all.columnText(1)), std::string(all.columnText(2)));
        e.session = all.columnInt(3);
        if (all.columnType(5) != SQLITE_NULL) {
            const std::string_view bytes = all.columnBlob(5);
            std::optional<Value> v;
            if (checksum(key, bytes) == all.columnInt(4))
                v = decodeCbor(bytes);
            if (!v) {
                ++corrupt;
                log::get("history")->warn("result cache: entry {} is damaged; computing it again",
                                          key);
                bad.push_back(Named{key, e.origin});
                continue;
            }
            e.inlined = true;
            e.value = std::move(*v);
        }
        index.insert_or_assign(key, std::move(e));
    }
    if (rc != SQLITE_DONE)
        log::get("history")->warn("result cache: reading the index stopped: {}",
                                  sqlite3_errmsg(reader));
    if (!bad.empty() && !options.readOnly) {
        std::lock_guard lock(queueMutex);
        for (Named &b : bad)
            removals.push_back(std::move(b));
    }
}

std::optional<Value> SqliteResultCache::Impl::readRow(std::string_view key,
                                                      const Origin &o,
                                                      std::int64_t &sessionOut,
                                                      std::int64_t &rowidOut)
{
    readValue.copyText(1, key);
    readValue.copyText(2, o.function);
    readValue.copyText(3, o.sha);
    std::optional<Value> v;
    const int rc = readValue.step();
    if (rc == SQLITE_ROW) {
        const std::string_view bytes = readValue.columnBlob(0);
        std::string why = "checksum mismatch";
        if (checksum(key, bytes) == readValue.columnInt(1))
            v = decodeCbor(bytes, &why);
        sessionOut = readValue.columnInt(2);
        rowidOut = readValue.columnInt(3);
        if (!v) {
            ++corrupt;
            log::get("history")->warn("result cache: entry {} does not decode ({}); computing "
                                      "it again",
                                      key,
                                      why);
        }
    } else if (rc != SQLITE_DONE) {
        log::get("history")->warn("result cache: cannot read {}: {}", key, sqlite3_errmsg(reader));
    }
    readValue.reset();
    return v;
}

SqliteResultCache::SqliteResultCache(ResultCacheOptions options)
    : d(std::make_unique<Impl>())
{
    d->options = std::move(options);
    d->path
        = d->options.databasePath.empty() ? HistoryStore::defaultPath() : d->options.databasePath;
    d->ok = d->open();
    if (d->ok)
        d->thread = std::thread([this] { d->run(); });
}

SqliteResultCache::~SqliteResultCache()
{
    if (d->thread.joinable()) {
        {
            std::lock_guard lock(d->queueMutex);
            d->stopping = true;
        }
        d->queueCv.notify_all();
        d->thread.join();
    }
    // Statements are finalized with d, after these: close_v2 waits for them.
    sqlite3_close_v2(d->reader);
    sqlite3_close_v2(d->writer);
}

bool SqliteResultCache::ok() const
{
    return d->ok;
}

std::string SqliteResultCache::errorString() const
{
    std::lock_guard lock(d->errorMutex);
    return d->error;
}

const std::string &SqliteResultCache::path() const
{
    return d->path;
}

void SqliteResultCache::setSession(std::int64_t session)
{
    d->session.store(session);
}

void SqliteResultCache::lookup(const std::vector<CacheRequest> &requests,
                               std::vector<std::optional<CacheHit>> &out)
{
    out.assign(requests.size(), std::nullopt);
    if (!d->ok) {
        d->misses += requests.size();
        return;
    }
    // Found in memory, or to read from the database (larger values).
    std::vector<std::size_t> toRead;
    // Each request's origin first (one hash per plugin file, then one comparison per task of
    // the same function), outside the index lock, which originOf takes for a new function.
    std::vector<std::uint32_t> origin(requests.size(), 0);
    std::vector<char> usable(requests.size(), 0);
    for (std::size_t i = 0; i < requests.size(); ++i)
        usable[i] = requests[i].function && d->originOf(*requests[i].function, origin[i]);
    std::vector<std::int64_t> touched;
    std::uint64_t hits = 0;
    {
        std::lock_guard lock(d->indexMutex);
        if (!d->indexLoaded)
            d->loadIndex();
        for (std::size_t i = 0; i < requests.size(); ++i) {
            if (!usable[i]) // not from a plugin file
                continue;
            auto it = d->index.find(requests[i].key);
            if (it == d->index.end() || it->second.origin != origin[i])
                continue; // never computed, or by another build of the plugin
            if (!it->second.inlined) {
                toRead.push_back(i);
                continue;
            }
            out[i] = CacheHit{it->second.value, it->second.session};
            ++hits;
            if (!d->options.readOnly)
                touched.push_back(it->second.rowid);
        }
    }
    if (!toRead.empty()) {
        std::vector<Impl::Origin> originsNow;
        {
            std::lock_guard lock(d->indexMutex);
            originsNow = d->origins;
        }
        std::vector<Impl::Named> bad;
        const bool batch = toRead.size() > 1 && exec(d->reader, "BEGIN", nullptr);
        for (std::size_t i : toRead) {
            std::int64_t session = 0, rowid = 0;
            std::optional<Value> v
                = d->readRow(requests[i].key, originsNow[origin[i]], session, rowid);
            if (!v) {
                bad.push_back(Impl::Named{std::string(requests[i].key), origin[i]});
                continue;
            }
            out[i] = CacheHit{std::move(*v), session};
            ++hits;
            if (!d->options.readOnly)
                touched.push_back(rowid);
        }
        if (batch)
            exec(d->reader, "COMMIT", nullptr);
        if (!bad.empty()) {
            // Gone (another process evicted it) or damaged: drop it from the index, and a
            // damaged row from the database, so that the recomputed value replaces it.
            {
                std::lock_guard lock(d->indexMutex);
                for (const Impl::Named &b : bad)
                    d->index.erase(b.key);
            }
            if (!d->options.readOnly) {
                std::lock_guard lock(d->queueMutex);
                for (Impl::Named &b : bad)
                    d->removals.push_back(std::move(b));
            }
        }
    }
    d->hits += hits;
    d->misses += requests.size() - hits;
    if (!touched.empty()) {
        std::lock_guard lock(d->queueMutex);
        if (d->touches.empty())
            d->touches.swap(touched);
        else
            d->touches.insert(d->touches.end(),
                              std::make_move_iterator(touched.begin()),
                              std::make_move_iterator(touched.end()));
    }
}

void SqliteResultCache::store(const FunctionInfo &function,
                              std::string_view key,
                              const Value &value)
{
    if (!d->ok || d->options.readOnly)
        return;
    std::uint32_t origin = 0;
    if (!d->originOf(function, origin))
        return;
    std::lock_guard lock(d->queueMutex);
    d->stores.push_back(Impl::Store{std::string(key), origin, d->session.load(), value});
}

void SqliteResultCache::flush()
{
    if (!d->thread.joinable())
        return;
    std::unique_lock lock(d->queueMutex);
    const std::uint64_t generation = ++d->requested;
    d->queueCv.notify_all();
    d->flushedCv.wait(lock, [&] { return d->written >= generation || d->stopping; });
}

ResultCacheStats SqliteResultCache::stats()
{
    ResultCacheStats s;
    s.maxBytes = d->options.maxBytes;
    s.hits = d->hits;
    s.misses = d->misses;
    s.stored = d->stored;
    s.evicted = d->evicted;
    s.corrupt = d->corrupt;
    if (!d->ok)
        return s;
    std::lock_guard lock(d->writeMutex);
    Statement q;
    if (q.prepare(d->writer, "SELECT count(*), total(size) FROM result_cache")
        && q.step() == SQLITE_ROW) {
        s.entries = q.columnInt(0);
        s.bytes = q.columnInt(1);
    }
    return s;
}

bool SqliteResultCache::clear()
{
    if (!d->ok)
        return false;
    {
        std::lock_guard lock(d->queueMutex);
        d->stores.clear();
        d->touches.clear();
        d->removals.clear();
    }
    std::string e;
    {
        std::lock_guard lock(d->writeMutex);
        if (!exec(d->writer, "DELETE FROM result_cache", &e)) {
            d->setError("result cache: cannot clear: " + e);
            return false;
        }
    }
    std::lock_guard lock(d->indexMutex);
    d->index.clear();
    return true;
}

std::string SqliteResultCache::fileSha256(const std::string &path)
{
    return history::fileSha256(path);
}

} // namespace taskbench::history
