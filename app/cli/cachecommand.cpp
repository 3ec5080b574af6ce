// The result cache in taskbench-cli. The cache itself is Taskbench::History's
// (taskbench/history/resultcache.h); main() hands it to the cluster and names the session.
#include "cachecommand.h"

#include "taskbench/history/resultcache.h"
#include "taskbench/valuecodec.h"

#include <cstdio>
#include <iostream>

namespace taskbench::cli {

namespace {

history::ResultCacheOptions cacheOptions(const std::string &dbPath, const Options &opts)
{
    history::ResultCacheOptions o;
    o.databasePath = dbPath;
    o.maxBytes = std::uint64_t(opts.cacheMaxMb) << 20;
    return o;
}

/// "812 B", "3.4 KiB", "256 MiB": a few small entries are not "0.0 MiB".
std::string humanBytes(std::int64_t bytes)
{
    if (bytes < 1024)
        return std::to_string(bytes) + " B";
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

} // namespace

std::shared_ptr<history::SqliteResultCache> openResultCache(const std::string &dbPath,
                                                            const Options &opts,
                                                            const std::vector<std::string> &plugins)
{
    if (opts.noCache || opts.noHistory) // the cache lives in the history database
        return nullptr;
    history::ResultCacheOptions o = cacheOptions(dbPath, opts);
    o.preloadPlugins = plugins;
    auto cache = std::make_shared<history::SqliteResultCache>(o);
    if (!cache->ok()) {
        std::cerr << "taskbench-cli: result cache: " << cache->errorString()
                  << "; every task is computed\n";
        return nullptr;
    }
    return cache;
}

int commandCache(const std::string &dbPath, const Options &opts)
{
    history::SqliteResultCache cache(cacheOptions(dbPath, opts));
    if (!cache.ok())
        throw InputError("cache: " + cache.errorString());
    const std::string &action = opts.positional.front();
    if (action == "clear") {
        const history::ResultCacheStats before = cache.stats();
        if (!cache.clear())
            throw InputError("cache clear: " + cache.errorString());
        if (opts.json)
            std::cout << toJson(
                Value(Value::Map{{"cleared", before.entries}, {"path", cache.path()}}))
                      << "\n";
        else
            std::cout << "cleared " << before.entries << " entries (" << humanBytes(before.bytes)
                      << ") from " << cache.path() << "\n";
        return kExitOk;
    }
    const history::ResultCacheStats s = cache.stats();
    if (opts.json) {
        std::cout << toJson(Value(Value::Map{{"path", cache.path()},
                                             {"entries", s.entries},
                                             {"bytes", s.bytes},
                                             {"max_bytes", std::int64_t(s.maxBytes)}}))
                  << "\n";
    } else {
        std::cout << "Result cache: " << cache.path() << "\n"
                  << "  entries: " << s.entries << "\n"
                  << "  size:    " << humanBytes(s.bytes) << " of "
                  << humanBytes(std::int64_t(s.maxBytes)) << " (--cache-max-mb)\n";
    }
    return kExitOk;
}

} // namespace taskbench::cli
