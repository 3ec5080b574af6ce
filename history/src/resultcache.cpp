// SqliteResultCache: the result cache in the history database. Two SQLite connections (C
// API, serialized mode): one read by the scheduler thread for hits on values that are not
// kept in memory, one owned by the writer thread for stores, last-use updates, removals and
// eviction. The in-memory index answers misses without touching the database.
#include "taskbench/history/resultcache.h"

#include "filehash_p.h"
#include "sqlstatement_p.h"

#include "taskbench/clock.h"
#include "taskbench/history/historystore.h"
#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <QCryptographicHash>
#include <QFile>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace taskbench::history {

namespace {

const char *const kCacheSchema = R"sql(
CREATE TABLE IF NOT EXISTS result_cache(
  key TEXT NOT NULL,
  function TEXT NOT NULL,
  plugin_sha256 TEXT NOT NULL,
  value BLOB NOT NULL,
  checksum INTEGER NOT NULL,
  size INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  session_id INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(key, function));
CREATE INDEX IF NOT EXISTS result_cache_lru ON result_cache(last_used)
)sql";

/// Values whose CBOR is at most this long are kept decoded in the index: a hit on them
/// reads nothing (a map of small results, the common case, is served from memory).
constexpr std::size_t kInlineBytes = 256;

/// FNV-1a over the key and the value's bytes: a row whose bytes were damaged, or moved to
/// another key, fails it.
std::int64_t checksum(std::string_view key, std::string_view bytes)
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

bool exec(sqlite3 *db, const char *sql, std::string *error)
{
    char *message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK)
        return true;
    if (error)
        *error = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
}

} // namespace

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
        std::uint32_t origin = 0;
        std::int64_t session = 0;
        bool inlined = false;
        Value value; ///< when inlined
    };
    std::mutex indexMutex;
    bool indexLoaded = false;
    std::vector<Origin> origins;
    std::unordered_map<std::string, std::uint32_t> originIds; ///< "function\nsha"
    std::unordered_map<std::string, Entry, TransparentHash, std::equal_to<>> index;

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
    struct Touch
    {
        std::string key;
        std::uint32_t origin;
    };
    std::mutex queueMutex;
    std::condition_variable queueCv;
    std::condition_variable flushedCv;
    std::vector<Store> stores;
    std::vector<Touch> touches;
    std::vector<Touch> removals;
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
    std::optional<Value> readRow(std::string_view key, const Origin &o, std::int64_t &session);
    void run();
    bool write(std::vector<Store> &s, std::vector<Touch> &t, std::vector<Touch> &r);
};

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
        || !exec(writer, "PRAGMA synchronous=NORMAL", &e) || !exec(writer, kCacheSchema, &e)) {
        setError("result cache in " + path + ": " + e);
        return false;
    }
    if (!insert.prepare(writer,
                        "INSERT OR REPLACE INTO result_cache(key, function, plugin_sha256, value, "
                        "checksum, size, last_used, session_id) VALUES(?,?,?,?,?,?,?,?)")
        || !touch.prepare(writer,
                          "UPDATE result_cache SET last_used=? WHERE key=? AND function=? AND "
                          "plugin_sha256=?")
        || !remove.prepare(writer,
                           "DELETE FROM result_cache WHERE key=? AND function=? AND "
                           "plugin_sha256=?")
        || !readValue.prepare(reader,
                              "SELECT value, checksum, session_id FROM result_cache WHERE key=? "
                              "AND function=? AND plugin_sha256=?")) {
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
                     "CASE WHEN length(value) <= 256 THEN value END FROM result_cache")) {
        log::get("history")->warn("result cache: cannot read the index: {}",
                                  sqlite3_errmsg(reader));
        return;
    }
    int rc;
    std::vector<Touch> bad;
    while ((rc = all.step()) == SQLITE_ROW) {
        Entry e;
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
                bad.push_back(Touch{key, e.origin});
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
        for (Touch &t : bad)
            removals.push_back(std::move(t));
    }
}

std::optional<Value>
SqliteResultCache::Impl::readRow(std::string_view key, const Origin &o, std::int64_t &sessionOut)
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
        std::vector<Touch> t, r;
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
                                    std::vector<Touch> &t,
                                    std::vector<Touch> &r)
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
        std::uint32_t origin;
        std::int64_t session;
        bool inlined;
        Value value;
    };
    std::vector<Added> added;
    std::string bytes;
    bool failed = false;
    // Removals first: a damaged entry's recomputed value may be in this very batch.
    for (const Touch &x : r) {
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
        added.push_back(Added{st.key, st.origin, st.session, inl, inl ? st.value : Value()});
    }
    for (const Touch &x : t) {
        if (failed)
            break;
        const Origin &o = originsNow[x.origin];
        touch.number(1, nextUse());
        touch.copyText(2, x.key);
        touch.copyText(3, o.function);
        touch.copyText(4, o.sha);
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
    for (const Touch &x : r) {
        auto it = index.find(x.key);
        if (it != index.end() && it->second.origin == x.origin)
            index.erase(it);
    }
    for (Added &a : added)
        index.insert_or_assign(std::move(a.key),
                               Entry{a.origin, a.session, a.inlined, std::move(a.value)});
    for (const std::string &key : gone)
        index.erase(key);
    return true;
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
    std::vector<Impl::Touch> touched;
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
                touched.push_back(Impl::Touch{std::string(requests[i].key), origin[i]});
        }
    }
    if (!toRead.empty()) {
        std::vector<Impl::Origin> originsNow;
        {
            std::lock_guard lock(d->indexMutex);
            originsNow = d->origins;
        }
        std::vector<Impl::Touch> bad;
        const bool batch = toRead.size() > 1 && exec(d->reader, "BEGIN", nullptr);
        for (std::size_t i : toRead) {
            std::int64_t session = 0;
            std::optional<Value> v = d->readRow(requests[i].key, originsNow[origin[i]], session);
            if (!v) {
                bad.push_back(Impl::Touch{std::string(requests[i].key), origin[i]});
                continue;
            }
            out[i] = CacheHit{std::move(*v), session};
            ++hits;
            if (!d->options.readOnly)
                touched.push_back(Impl::Touch{std::string(requests[i].key), origin[i]});
        }
        if (batch)
            exec(d->reader, "COMMIT", nullptr);
        if (!bad.empty()) {
            // Gone (another process evicted it) or damaged: drop it from the index, and a
            // damaged row from the database, so that the recomputed value replaces it.
            {
                std::lock_guard lock(d->indexMutex);
                for (const Impl::Touch &b : bad)
                    d->index.erase(b.key);
            }
            if (!d->options.readOnly) {
                std::lock_guard lock(d->queueMutex);
                for (Impl::Touch &b : bad)
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
