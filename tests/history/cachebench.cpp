// `taskbench-history-bench cache`: what the result cache gives and costs, on a map of the
// trivial bench.inc (default 100,000 tasks, 2 workers), all runs in this process:
//   computed_processes_ms  the map on process workers, no cache
//   cached_processes_ms    the same map on process workers, every task in the cache (a fresh
//                          SqliteResultCache each run, as a new CLI run has: its index is
//                          loaded by the first lookup, inside the measured time)
//   threads_ms             the map on thread workers, no cache
//   threads_miss_ms        the same with an empty read-only cache: every task looked up, a
//                          miss (what a lookup costs by itself; the plugin file hashed
//                          before, as the CLI and GUI do while the cluster starts);
//                          miss_overhead_pct compares it with the mean of an uncached run
//                          just before and one just after
//   threads_miss_store_ms  the same with an empty cache that stores every result (queued on
//                          the scheduler thread, written by the cache's own thread)
//   miss_lookup_ms         time spent inside the cache's lookup() in the threads_miss run:
//                          it runs on the scheduler thread, so it is what a miss adds to the
//                          map, measured without the run-to-run noise of whole maps
//                          (miss_lookup_pct: of threads_ms)
// Clocks start once the cluster is up and stop when the results are gathered. One JSON line
// per repeat, then the medians:
//   {"bench":"result_cache","tasks":..,"computed_processes_ms":..,"cached_processes_ms":..,
//    "cached_speedup":..,"threads_ms":..,"threads_miss_ms":..,"miss_overhead_pct":..,
//    "threads_miss_store_ms":..,"store_overhead_pct":..,"miss_lookup_ms":..,
//    "miss_lookup_pct":..}
// Figures are printed, never asserted (the machine is shared and noisy).
#include "cachebench.h"

#include "taskbench/client.h"
#include "taskbench/history/resultcache.h"
#include "taskbench/pluginloader.h"

#include <QTemporaryDir>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace taskbench;
using Clock = std::chrono::steady_clock;

namespace {

const char *const kPlugin = TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so";

double runMap(const std::shared_ptr<FunctionRegistry> &registry,
              int tasks,
              int workers,
              bool processes,
              std::shared_ptr<ResultCache> cache,
              int *cachedOut = nullptr)
{
    ClusterOptions options;
    options.workers = workers;
    options.resultCache = std::move(cache);
    if (processes) {
        options.processes = true;
        options.pluginPaths.push_back(kPlugin);
    }
    Client client(options, registry);
    std::vector<Value> inputs;
    inputs.reserve(std::size_t(tasks));
    for (int i = 0; i < tasks; ++i)
        inputs.emplace_back(i);
    const auto begin = Clock::now();
    std::vector<Future> futures = client.map("bench.inc", std::move(inputs));
    const std::vector<Value> results = client.gather(futures);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
    if (results.size() != std::size_t(tasks) || results.back().toInt() != tasks) {
        std::fprintf(stderr, "wrong results\n");
        std::exit(1);
    }
    if (cachedOut) {
        *cachedOut = 0;
        for (const Future &f : futures)
            *cachedOut += f.cached() ? 1 : 0;
    }
    return ms;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

/// Passes every call on and adds up the time spent in lookup().
class TimedCache : public ResultCache
{
public:
    explicit TimedCache(std::shared_ptr<ResultCache> inner)
        : m_inner(std::move(inner))
    {}
    void lookup(const std::vector<CacheRequest> &requests,
                std::vector<std::optional<CacheHit>> &out) override
    {
        const auto begin = Clock::now();
        m_inner->lookup(requests, out);
        m_lookupNs
            += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count();
    }
    void store(const FunctionInfo &function, std::string_view key, const Value &value) override
    {
        m_inner->store(function, key, value);
    }
    double lookupMs() const { return double(m_lookupNs.load()) / 1e6; }

private:
    std::shared_ptr<ResultCache> m_inner;
    std::atomic<std::int64_t> m_lookupNs{0};
};

enum class Preload {
    No,  ///< the plugin file is hashed and the index loaded by the first lookup (timed)
    Yes, ///< as the CLI and the GUI open it, and waited for: done before the map starts
};

/// With Preload::Yes the one-time hash of the plugin file (about 15 ms for the 3 MB bench
/// plugin, which the CLI and the GUI do on the cache's thread while the cluster starts) is
/// not in the timed map, so that miss_lookup_ms is what the misses themselves cost.
std::shared_ptr<history::SqliteResultCache>
openCache(const std::string &db, bool readOnly, Preload preload = Preload::No)
{
    history::ResultCacheOptions o;
    o.databasePath = db;
    o.readOnly = readOnly;
    if (preload == Preload::Yes)
        o.preloadPlugins = {kPlugin};
    auto cache = std::make_shared<history::SqliteResultCache>(o);
    if (!cache->ok()) {
        std::fprintf(stderr, "result cache: %s\n", cache->errorString().c_str());
        std::exit(1);
    }
    if (preload == Preload::Yes)
        cache->flush(); // returns once the cache's thread has done the preload
    return cache;
}

} // namespace

int runCacheBench(int argc, char **argv)
{
    int tasks = 100'000, repeat = 3, workers = 2;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        const int v = std::atoi(argv[i + 1]);
        if (v < 1 || (name != "--tasks" && name != "--repeat" && name != "--workers")) {
            std::fprintf(stderr,
                         "usage: taskbench-history-bench cache [--tasks N] [--repeat R] "
                         "[--workers W]\n");
            return 2;
        }
        (name == "--tasks" ? tasks : name == "--repeat" ? repeat : workers) = v;
    }
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    if (loader.load(kPlugin).loaded.empty()) {
        std::fprintf(stderr, "cannot load the bench plugin from %s\n", TASKBENCH_PLUGIN_DIR);
        return 1;
    }
    QTemporaryDir tmp;
    const std::string full = tmp.filePath("full.sqlite").toStdString();
    const std::string empty = tmp.filePath("empty.sqlite").toStdString();
    // Fill the cache once (and warm up threads, code and the plugin's pages).
    {
        auto cache = openCache(full, false);
        runMap(registry, tasks, workers, false, cache);
        cache->flush();
    }
    runMap(registry, std::min(tasks, 10'000), workers, true, nullptr);
    std::vector<double> computed, cached, threads, miss, store, missPairs, storePairs, lookups;
    for (int r = 0; r < repeat; ++r) {
        const double c = runMap(registry, tasks, workers, true, nullptr);
        int hits = 0;
        const double h = runMap(registry, tasks, workers, true, openCache(full, false), &hits);
        if (hits != tasks) {
            std::fprintf(stderr, "only %d of %d tasks came from the cache\n", hits, tasks);
            return 1;
        }
        // The uncached run before and after the misses, their mean as the pair's baseline:
        // the shared machine drifts by more than what is measured.
        const double before = runMap(registry, tasks, workers, false, nullptr);
        auto timed = std::make_shared<TimedCache>(openCache(empty, true, Preload::Yes));
        const double m = runMap(registry, tasks, workers, false, timed);
        const double t = (before + runMap(registry, tasks, workers, false, nullptr)) / 2;
        double s;
        {
            auto fresh = openCache(empty, false, Preload::Yes);
            s = runMap(registry, tasks, workers, false, fresh);
            fresh->clear(); // empty again for the next repeat
        }
        computed.push_back(c);
        cached.push_back(h);
        threads.push_back(t);
        miss.push_back(m);
        store.push_back(s);
        missPairs.push_back(100.0 * (m - t) / t);
        storePairs.push_back(100.0 * (s - t) / t);
        lookups.push_back(timed->lookupMs());
        std::printf("{\"bench\":\"result_cache_run\",\"tasks\":%d,\"workers\":%d,"
                    "\"computed_processes_ms\":%.1f,\"cached_processes_ms\":%.1f,"
                    "\"threads_ms\":%.1f,\"threads_miss_ms\":%.1f,\"threads_miss_store_ms\":%.1f,"
                    "\"miss_lookup_ms\":%.2f}\n",
                    tasks,
                    workers,
                    c,
                    h,
                    t,
                    m,
                    s,
                    timed->lookupMs());
        std::fflush(stdout);
    }
    const double c = median(computed), h = median(cached);
    std::printf("{\"bench\":\"result_cache\",\"tasks\":%d,\"workers\":%d,\"repeat\":%d,"
                "\"computed_processes_ms\":%.1f,\"cached_processes_ms\":%.1f,"
                "\"cached_speedup\":%.2f,\"threads_ms\":%.1f,\"threads_miss_ms\":%.1f,"
                "\"miss_overhead_pct\":%.1f,\"threads_miss_store_ms\":%.1f,"
                "\"store_overhead_pct\":%.1f,\"miss_lookup_ms\":%.2f,\"miss_lookup_pct\":%.2f}\n",
                tasks,
                workers,
                repeat,
                c,
                h,
                h > 0 ? c / h : 0.0,
                median(threads),
                median(miss),
                median(missPairs),
                median(store),
                median(storePairs),
                median(lookups),
                median(threads) > 0 ? 100.0 * median(lookups) / median(threads) : 0.0);
    return 0;
}
