// taskbench-bench: the workloads of ../shared/bench/WORKLOADS.md on Taskbench's own engine,
// so that tests/bench/compare.sh can put them next to peer_dask.py's figures from the same
// run. It follows the spec to the letter (shapes, sizes, warm-up, repeats, medians, JSON
// lines, exit statuses) because only ratios measured the same way mean anything; a mode
// --memory N adds what the peer does not measure: engine memory per pending future.
#include "benchstats.h"

#include <taskbench/client.h>
#include <taskbench/logging.h>
#include <taskbench/pluginloader.h>

#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using taskbench::Client;
using taskbench::Future;
using taskbench::Value;
using taskbench::bench::MemoryRecord;
using taskbench::bench::Record;
using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 2;
constexpr int kRetries = 3;
constexpr const char *kInc = "bench.inc";
constexpr const char *kAdd = "bench.add";
constexpr const char *kFlakyInc = "bench.flaky_inc";
constexpr const char *kGate = "bench.gate";
/// How long untimed clean-up may take before it counts as a hang.
constexpr auto kSettleTimeout = 120s;
/// How long start-up may take until both workers are up (Dask needs about 0.5 s).
constexpr auto kStartupTimeout = 30s;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitTimeout = 124;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// --- options ------------------------------------------------------------------------------

struct Options
{
    std::string engine = "threads";
    std::vector<std::string> workloads;
    double scale = 1.0;
    int repeat = 3;
    bool json = false;
    double timeout = 900.0;
    std::optional<std::int64_t> memory; ///< --memory N: the memory mode instead of workloads
};

constexpr std::int64_t kDefaultMemoryFutures = 1'000'000;

const char *const kUsage
    = "usage: taskbench-bench [--engine threads|processes|tcp] [--workloads LIST] [--scale S]\n"
      "                       [--repeat R] [--json] [--timeout SECONDS] [--memory [N]]\n"
      "\n"
      "Runs the workloads of shared/bench/WORKLOADS.md on 2 workers x 1 thread.\n"
      "  --engine     threads (default), processes, or tcp (taskbench-worker processes\n"
      "               joining over loopback TCP: ClusterOptions::listen)\n"
      "  --workloads  comma list from submit,map,chain,tree,latency,retries (default all)\n"
      "  --scale      multiplies every N (default 1.0)\n"
      "  --repeat     timed runs per workload, median reported (default 3)\n"
      "  --json       one JSON object per line on stdout\n"
      "  --timeout    abort with status 124 after this many seconds (default 900)\n"
      "  --memory N   instead of the workloads: N pending futures (default 1000000), print\n"
      "               the engine's resident memory per future\n"
      "Exit status: 0 all checks passed, 1 a check failed or a workload raised, 2 bad\n"
      "arguments, 124 timeout.\n";

std::string trimmed(std::string s)
{
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos)
        return {};
    const auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

bool parseDouble(const std::string &text, double *out)
{
    if (text.empty())
        return false;
    char *end = nullptr;
    *out = std::strtod(text.c_str(), &end);
    return end && *end == '\0' && std::isfinite(*out);
}

bool parseInt(const std::string &text, std::int64_t *out)
{
    if (text.empty())
        return false;
    char *end = nullptr;
    errno = 0;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (!end || *end != '\0' || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

/// Parses argv; nullopt (after a message on stderr) for bad arguments, or *help for --help.
std::optional<Options> parseArguments(int argc, char **argv, bool *help)
{
    Options o;
    std::string workloads;
    const auto fail = [](const std::string &message) -> std::optional<Options> {
        std::fprintf(stderr, "taskbench-bench: %s\n%s", message.c_str(), kUsage);
        return std::nullopt;
    };
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::optional<std::string> inlineValue;
        if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            inlineValue = arg.substr(eq + 1);
            arg.resize(eq);
        }
        // The value of an option: "--opt=value" or the next argument.
        const auto value = [&](std::string *out) {
            if (inlineValue) {
                *out = *inlineValue;
                return true;
            }
            if (i + 1 >= argc)
                return false;
            *out = argv[++i];
            return true;
        };
        std::string v;
        if (arg == "-h" || arg == "--help") {
            *help = true;
            return std::nullopt;
        } else if (arg == "--json" && !inlineValue) {
            o.json = true;
        } else if (arg == "--engine") {
            if (!value(&v) || (v != "threads" && v != "processes" && v != "tcp"))
                return fail("--engine must be threads, processes or tcp");
            o.engine = v;
        } else if (arg == "--workloads") {
            if (!value(&workloads))
                return fail("--workloads needs a comma list");
        } else if (arg == "--scale") {
            if (!value(&v) || !parseDouble(v, &o.scale) || !(o.scale > 0.0))
                return fail("--scale must be a number > 0");
        } else if (arg == "--repeat") {
            std::int64_t r = 0;
            if (!value(&v) || !parseInt(v, &r) || r < 1 || r > 1'000'000)
                return fail("--repeat must be an integer >= 1");
            o.repeat = int(r);
        } else if (arg == "--timeout") {
            if (!value(&v) || !parseDouble(v, &o.timeout) || !(o.timeout > 0.0))
                return fail("--timeout must be a number of seconds > 0");
        } else if (arg == "--memory") {
            // N is optional: "--memory", "--memory 1000", "--memory=1000".
            std::int64_t n = kDefaultMemoryFutures;
            if (inlineValue) {
                if (!parseInt(*inlineValue, &n))
                    return fail("--memory must be followed by a number of futures");
            } else if (i + 1 < argc && parseInt(argv[i + 1], &n)) {
                ++i;
            }
            if (n < 1)
                return fail("--memory needs at least 1 future");
            o.memory = n;
        } else {
            return fail("unknown argument '" + std::string(argv[i]) + "'");
        }
    }
    if (workloads.empty() && o.workloads.empty()) {
        for (const auto &w : taskbench::bench::kWorkloads)
            o.workloads.emplace_back(w.name);
    } else {
        std::stringstream list(workloads);
        std::string item;
        while (std::getline(list, item, ',')) {
            item = trimmed(item);
            if (item.empty())
                continue;
            if (!taskbench::bench::findWorkload(item))
                return fail("unknown workload '" + item
                            + "'; choose from submit,map,chain,tree,latency,retries");
            o.workloads.push_back(item);
        }
        if (o.workloads.empty())
            return fail("--workloads is empty");
    }
    return o;
}

// --- watchdog -----------------------------------------------------------------------------

/// Every process descended from this one (process workers and anything they started).
std::vector<pid_t> descendants()
{
    std::multimap<pid_t, pid_t> children; // parent -> child
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line))
            continue;
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        const auto close = line.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(line.substr(close + 1));
        std::string state;
        long ppid = 0;
        if (rest >> state >> ppid)
            children.emplace(pid_t(ppid), pid_t(std::stol(name)));
    }
    std::vector<pid_t> out;
    std::vector<pid_t> todo{getpid()};
    while (!todo.empty()) {
        const pid_t parent = todo.back();
        todo.pop_back();
        const auto [first, last] = children.equal_range(parent);
        for (auto it = first; it != last; ++it) {
            out.push_back(it->second);
            todo.push_back(it->second);
        }
    }
    return out;
}

/// A hung engine must not hang the benchmark (or ctest): after --timeout seconds, kill the
/// worker processes and exit with 124, as the peer does.
class Watchdog
{
public:
    explicit Watchdog(double seconds)
        : m_thread([this, seconds] { run(seconds); })
    {}
    ~Watchdog()
    {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
    Watchdog(const Watchdog &) = delete;
    Watchdog &operator=(const Watchdog &) = delete;

private:
    void run(double seconds)
    {
        std::unique_lock lock(m_mutex);
        const auto deadline
            = Clock::now()
              + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        if (m_cv.wait_until(lock, deadline, [this] { return m_done; }))
            return;
        std::fprintf(stderr, "taskbench-bench: --timeout %g s exceeded, aborting\n", seconds);
        for (const pid_t pid : descendants())
            ::kill(pid, SIGKILL);
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(kExitTimeout);
    }

    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    std::thread m_thread; // last: starts after the members it uses exist
};

// --- helpers ------------------------------------------------------------------------------

/// A new, empty directory in the system temporary directory, removed on destruction.
class TempDir
{
public:
    explicit TempDir(const std::string &prefix)
    {
        std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("cannot create a directory from " + tmpl);
        m_path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return m_path; }
    std::size_t fileCount() const
    {
        std::size_t n = 0;
        for ([[maybe_unused]] const auto &e : fs::directory_iterator(m_path))
            ++n;
        return n;
    }

private:
    std::string m_path;
};

/// The gate of the memory mode: a path that does not exist until open() creates it. Short on
/// purpose (up to 15 characters fit in std::string's inline buffer with the default /tmp):
/// every pending task holds a copy, and the figure should measure the engine per future,
/// not a heap-allocated argument, as the integer inputs of the other workloads do.
class Gate
{
public:
    Gate()
    {
        std::string tmpl = (fs::temp_directory_path() / "tbgXXXXXX").string();
        if (!::mkdtemp(tmpl.data())) // reserves a fresh name ...
            throw std::runtime_error("cannot create a directory from " + tmpl);
        m_path = tmpl;
        ::rmdir(m_path.c_str()); // ... that stays closed until open()
    }
    ~Gate() { ::rmdir(m_path.c_str()); }
    Gate(const Gate &) = delete;
    Gate &operator=(const Gate &) = delete;
    const std::string &path() const { return m_path; }
    bool open() const { return ::mkdir(m_path.c_str(), 0700) == 0 || errno == EEXIST; }

private:
    std::string m_path;
};

/// Resident set size of this process in bytes (/proc/self/statm, second field).
std::int64_t residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    std::int64_t size = 0;
    std::int64_t resident = 0;
    if (!(statm >> size >> resident))
        return -1;
    return resident * std::int64_t(::sysconf(_SC_PAGESIZE));
}

bool isInt(const Value &v, std::int64_t expected)
{
    return v.isInt() && v.toInt() == expected;
}

/// values[i] == i + 1 for every i.
bool checkIncremented(const std::vector<Value> &values, std::int64_t n)
{
    if (std::int64_t(values.size()) != n)
        return false;
    for (std::int64_t i = 0; i < n; ++i)
        if (!isInt(values[std::size_t(i)], i + 1))
            return false;
    return true;
}

/// One timed run's outcome.
struct RunResult
{
    double seconds = 0.0;
    bool ok = false;
    std::optional<double> p50us;
    std::optional<double> p99us;
};

// --- the engine run -----------------------------------------------------------------------

class Bench
{
public:
    Bench(Client &client, std::shared_ptr<taskbench::FunctionRegistry> functions)
        : m_client(client)
        , m_functions(std::move(functions))
    {
        m_opts.pure = false; // a new key per task: every run computes every task
    }

    /// One run of a workload of size n: timed region, then the check, then clean-up.
    RunResult runOnce(const std::string &workload, std::int64_t n)
    {
        RunResult r;
        if (workload == "submit")
            r = runSubmit(n);
        else if (workload == "map")
            r = runMap(n);
        else if (workload == "chain")
            r = runChain(n);
        else if (workload == "tree")
            r = runTree(n);
        else if (workload == "latency")
            r = runLatency(n);
        else if (workload == "retries")
            r = runRetries(n);
        else
            throw std::invalid_argument("unknown workload " + workload);
        settle();
        return r;
    }

    /// Untimed: the futures of the last run are gone; wait until the engine forgot them.
    void settle()
    {
        if (!m_client.waitUntilIdle(kSettleTimeout))
            std::fprintf(stderr,
                         "taskbench-bench: the engine still holds %zu tasks after %lld s\n",
                         m_client.taskCount(),
                         static_cast<long long>(kSettleTimeout.count()));
    }

    /// Every workload once at a tiny size (WORKLOADS.md §1.2); false if a result is wrong.
    bool warmUp()
    {
        const bool ok = runSubmit(4).ok && runMap(4).ok && runChain(3).ok && runTree(4).ok
                        && runLatency(1).ok && runRetries(6).ok;
        settle();
        return ok;
    }

    /// Start-up readiness: both workers up (and, for processes, really other processes),
    /// then one inc per worker, as the spec asks of the executors. Throws when not ready.
    void waitForWorkers(bool processes)
    {
        const auto deadline = Clock::now() + kStartupTimeout;
        for (;;) {
            const auto infos = m_client.workers();
            int alive = 0;
            for (const auto &w : infos)
                alive += w.alive ? 1 : 0;
            if (alive >= kWorkers) {
                if (processes)
                    for (const auto &w : infos)
                        if (w.alive && (w.pid <= 0 || w.pid == long(::getpid())))
                            throw std::runtime_error(
                                "the processes engine runs its workers in this process (pid "
                                + std::to_string(w.pid)
                                + "): it fell back to threads or has no process workers");
                break;
            }
            if (Clock::now() > deadline)
                throw std::runtime_error("only " + std::to_string(alive) + " of "
                                         + std::to_string(kWorkers) + " workers came up");
            std::this_thread::sleep_for(1ms);
        }
        std::vector<Future> fs;
        for (int i = 0; i < kWorkers; ++i)
            fs.push_back(m_client.submit(kInc, {Value(i)}, m_opts));
        if (!checkIncremented(m_client.gather(fs), kWorkers))
            throw std::runtime_error("the first inc per worker returned a wrong value");
    }

    /// The memory mode: n pending gate tasks; RSS per future; then open the gate and clean up.
    MemoryRecord measureMemory(const std::string &engine, std::int64_t n)
    {
        MemoryRecord rec{engine, n, std::nullopt, false};
        Gate gate;
        std::vector<Future> futures;
        bool ok = true;
        try {
            ::malloc_trim(0); // freed heap pages would otherwise hide growth
            const std::int64_t before = residentBytes();
            futures = bulk(kGate, n, gate.path(), m_opts);
            // map() returns once the records exist; count them only when the scheduler
            // holds them all (a query runs after the submit message on its thread).
            const auto deadline = Clock::now() + kSettleTimeout;
            while (m_client.taskCount() < std::size_t(n) && Clock::now() < deadline)
                std::this_thread::sleep_for(1ms);
            ::malloc_trim(0);
            const std::int64_t after = residentBytes();
            std::int64_t notPending = 0;
            for (const Future &f : futures)
                notPending += f.done() ? 1 : 0;
            ok = std::int64_t(futures.size()) == n && m_client.taskCount() >= std::size_t(n)
                 && notPending == 0 && before > 0 && after > 0;
            if (!ok)
                std::fprintf(stderr,
                             "taskbench-bench: memory: %zu futures, engine holds %zu tasks, "
                             "%lld already done\n",
                             futures.size(),
                             m_client.taskCount(),
                             static_cast<long long>(notPending));
            rec.bytesPerFuture = double(after - before) / double(n);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "taskbench-bench: memory: %s\n", e.what());
            ok = false;
        }
        rec.ok = ok;
        // Open the gate (the two running tasks return), cancel the rest, let everything go.
        if (!gate.open()) {
            std::fprintf(
                stderr, "taskbench-bench: memory: cannot open the gate %s\n", gate.path().c_str());
            rec.ok = false;
        }
        try {
            if (!futures.empty())
                m_client.cancel(futures);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "taskbench-bench: memory: cancel: %s\n", e.what());
            rec.ok = false;
        }
        futures.clear();
        futures.shrink_to_fit();
        if (!m_client.waitUntilIdle(kSettleTimeout)) {
            std::fprintf(stderr,
                         "taskbench-bench: memory: %zu tasks left after cancelling\n",
                         m_client.taskCount());
            m_cleanupFailed = true;
        }
        return rec;
    }

    bool cleanupFailed() const { return m_cleanupFailed; }

private:
    /// One bulk call (map) of fn over 0 … n−1 with `extra` as its second parameter, passed by
    /// name as the peer passes marker_dir. A one-parameter fn gets `extra` as its input.
    std::vector<Future>
    bulk(const char *fn, std::int64_t n, const std::string &extra, taskbench::SubmitOptions opts)
    {
        const taskbench::FunctionPtr info = m_functions->find(fn);
        if (!info)
            throw std::invalid_argument(std::string("no function ") + fn);
        std::vector<Value> inputs;
        inputs.reserve(std::size_t(n));
        if (info->params.size() >= 2) {
            for (std::int64_t i = 0; i < n; ++i)
                inputs.emplace_back(i);
            opts.kwargs[info->params[1].name] = Value(extra);
        } else {
            for (std::int64_t i = 0; i < n; ++i)
                inputs.emplace_back(extra);
        }
        return m_client.map(fn, std::move(inputs), std::move(opts));
    }

    RunResult runSubmit(std::int64_t n)
    {
        std::vector<Future> futures; // dropped after the clock stops
        const auto t0 = Clock::now();
        futures.reserve(std::size_t(n));
        for (std::int64_t i = 0; i < n; ++i)
            futures.push_back(m_client.submit(kInc, {Value(i)}, m_opts));
        const std::vector<Value> values = m_client.gather(futures);
        RunResult r;
        r.seconds = secondsSince(t0);
        r.ok = checkIncremented(values, n);
        return r;
    }

    RunResult runMap(std::int64_t n)
    {
        std::vector<Future> futures;
        const auto t0 = Clock::now();
        std::vector<Value> inputs; // building the inputs is the map call's work: timed
        inputs.reserve(std::size_t(n));
        for (std::int64_t i = 0; i < n; ++i)
            inputs.emplace_back(i);
        futures = m_client.map(kInc, std::move(inputs), m_opts);
        const std::vector<Value> values = m_client.gather(futures);
        RunResult r;
        r.seconds = secondsSince(t0);
        r.ok = checkIncremented(values, n);
        return r;
    }

    RunResult runChain(std::int64_t n)
    {
        const auto t0 = Clock::now();
        // Each link takes the previous future; the engine resolves it, the caller never waits.
        Future x = m_client.submit(kInc, {Value(0)}, m_opts);
        for (std::int64_t i = 1; i < n; ++i)
            x = m_client.submit(kInc, {Value(x)}, m_opts);
        const Value last = x.result();
        RunResult r;
        r.seconds = secondsSince(t0);
        r.ok = isInt(last, n);
        return r;
    }

    RunResult runTree(std::int64_t n)
    {
        const auto t0 = Clock::now();
        std::vector<Value> inputs;
        inputs.reserve(std::size_t(n));
        for (std::int64_t i = 0; i < n; ++i)
            inputs.emplace_back(i);
        std::vector<Future> level = m_client.map(kInc, std::move(inputs), m_opts);
        while (level.size() > 1) {
            std::vector<Future> next;
            next.reserve(level.size() / 2 + 1);
            for (std::size_t j = 0; j + 1 < level.size(); j += 2)
                next.push_back(
                    m_client.submit(kAdd, {Value(level[j]), Value(level[j + 1])}, m_opts));
            if (level.size() % 2)
                next.push_back(std::move(level.back())); // odd one out: carried to the end
            level = std::move(next);
        }
        const Value total = level.front().result();
        RunResult r;
        r.seconds = secondsSince(t0);
        r.ok = isInt(total, n * (n + 1) / 2);
        return r;
    }

    RunResult runLatency(std::int64_t n)
    {
        std::vector<double> samplesUs;
        samplesUs.reserve(std::size_t(n));
        bool ok = true;
        const auto t0 = Clock::now();
        for (std::int64_t i = 0; i < n; ++i) {
            const auto t1 = Clock::now();
            const Future f = m_client.submit(kInc, {Value(i)}, m_opts);
            const Value v = f.result();
            const auto t2 = Clock::now();
            samplesUs.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
            ok = ok && isInt(v, i + 1);
        } // f goes here, after its sample's clock stopped
        RunResult r;
        r.seconds = secondsSince(t0);
        r.ok = ok;
        std::sort(samplesUs.begin(), samplesUs.end());
        r.p50us = taskbench::bench::median(samplesUs);
        r.p99us = taskbench::bench::nearestRank(samplesUs, 99.0);
        return r;
    }

    RunResult runRetries(std::int64_t n)
    {
        TempDir markers("taskbench_bench_retries_"); // untimed: before the clock
        taskbench::SubmitOptions opts = m_opts;
        opts.retries = kRetries;
        std::vector<Future> futures;
        const auto t0 = Clock::now();
        futures = bulk(kFlakyInc, n, markers.path(), opts);
        const std::vector<Value> values = m_client.gather(futures);
        RunResult r;
        r.seconds = secondsSince(t0);
        // Every planned failure happened exactly once: one marker per i % 5 == 0.
        const std::size_t planned = std::size_t((n + 4) / 5);
        const std::size_t markersFound = markers.fileCount();
        r.ok = checkIncremented(values, n) && markersFound == planned;
        if (markersFound != planned)
            std::fprintf(stderr,
                         "taskbench-bench: retries: %zu marker files, expected %zu\n",
                         markersFound,
                         planned);
        return r;
    }

    Client &m_client;
    std::shared_ptr<taskbench::FunctionRegistry> m_functions;
    taskbench::SubmitOptions m_opts;
    bool m_cleanupFailed = false;
};

void emit(const Options &o, const std::string &json, const std::string &text)
{
    std::fputs((o.json ? json : text).c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void emit(const Options &o, const Record &r)
{
    emit(o, taskbench::bench::toJson(r), taskbench::bench::toText(r));
}

Record failedRecord(const Options &o, const std::string &workload)
{
    const auto spec = taskbench::bench::findWorkload(workload);
    const std::int64_t n = spec ? taskbench::bench::scaledSize(spec->baseN, o.scale) : 0;
    return Record{o.engine, workload, taskbench::bench::taskCount(workload, n), {}, {}, {}, false};
}

/// Runs --repeat timed runs of one workload and reduces them to its line.
Record runWorkload(const Options &o, Bench &bench, const std::string &workload)
{
    const std::int64_t n
        = taskbench::bench::scaledSize(taskbench::bench::findWorkload(workload)->baseN, o.scale);
    std::vector<RunResult> runs;
    try {
        for (int i = 0; i < o.repeat; ++i)
            runs.push_back(bench.runOnce(workload, n));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "taskbench-bench: %s: %s\n", workload.c_str(), e.what());
        try {
            bench.settle(); // let erred leftovers go before the next workload
        } catch (const std::exception &e2) {
            std::fprintf(stderr, "taskbench-bench: settle: %s\n", e2.what());
        }
        return failedRecord(o, workload);
    }
    Record rec{o.engine, workload, taskbench::bench::taskCount(workload, n), {}, {}, {}, true};
    std::vector<double> seconds, p50, p99;
    for (const RunResult &r : runs) {
        seconds.push_back(r.seconds);
        rec.ok = rec.ok && r.ok;
        if (r.p50us)
            p50.push_back(*r.p50us);
        if (r.p99us)
            p99.push_back(*r.p99us);
    }
    rec.seconds = taskbench::bench::median(seconds);
    if (!p50.empty())
        rec.p50us = taskbench::bench::median(p50);
    if (!p99.empty())
        rec.p99us = taskbench::bench::median(p99);
    return rec;
}

/// --engine tcp: kWorkers taskbench-worker processes (next to this binary) that join the
/// client's TCP port, as a remote node would. Returns their pids (they exit with the cluster).
std::vector<pid_t> startTcpWorkers(const Client &client)
{
    const std::string exe
        = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "taskbench-worker")
              .string();
    std::vector<pid_t> pids;
    for (int i = 0; i < kWorkers; ++i) {
        std::vector<std::string> args = {exe,
                                         "--scheduler",
                                         client.listenAddress(),
                                         "--token-file",
                                         client.tokenFile(),
                                         "--name",
                                         "bench-" + std::to_string(i)};
        std::vector<char *> argv;
        for (std::string &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        if (const int rc = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ))
            throw std::runtime_error("cannot start " + exe + ": " + std::strerror(rc));
        pids.push_back(pid);
    }
    return pids;
}

int run(const Options &o)
{
    // Loading the plugin library is not start-up (WORKLOADS.md §1.1): before the clock.
    auto functions = std::make_shared<taskbench::FunctionRegistry>();
    taskbench::PluginLoader loader(*functions);
    const auto folders = taskbench::PluginLoader::defaultSearchPath();
    loader.scan(folders);

    taskbench::ClusterOptions cluster;
    cluster.workers = kWorkers;
    cluster.threadsPerWorker = 1;
    cluster.processes = o.engine == "processes";
    if (o.engine == "tcp") {
        cluster.listen = "127.0.0.1:0";
        cluster.localWorkers = false;
    }
    std::vector<pid_t> tcpWorkers;

    std::unique_ptr<Client> client;
    std::unique_ptr<Bench> bench;
    Record startup{o.engine, "startup", 0, {}, {}, {}, false};
    std::string startupError;
    if (const auto inc = functions->find(kInc); !inc) {
        std::string where;
        for (const auto &f : folders)
            where += (where.empty() ? "" : ", ") + f;
        startupError = "no bench plugin (function bench.inc) in " + where;
    } else {
        if (!inc->pluginPath.empty())
            cluster.pluginPaths.push_back(inc->pluginPath);
        try {
            const auto t0 = Clock::now();
            client = std::make_unique<Client>(cluster, functions);
            if (o.engine == "tcp")
                tcpWorkers = startTcpWorkers(*client);
            bench = std::make_unique<Bench>(*client, functions);
            bench->waitForWorkers(cluster.processes);
            startup.seconds = secondsSince(t0);
            startup.ok = true;
        } catch (const std::exception &e) {
            startupError = e.what();
        }
    }
    if (!startup.ok)
        std::fprintf(stderr, "taskbench-bench: start-up failed: %s\n", startupError.c_str());

    int status = kExitOk;
    if (o.memory) {
        MemoryRecord rec{o.engine, *o.memory, std::nullopt, false};
        if (startup.ok)
            rec = bench->measureMemory(o.engine, *o.memory);
        emit(o, taskbench::bench::toJson(rec), taskbench::bench::toText(rec));
        status = rec.ok && bench && !bench->cleanupFailed() ? kExitOk : kExitFailed;
    } else {
        emit(o, startup);
        bool ready = startup.ok;
        if (ready) {
            try {
                ready = bench->warmUp();
                if (!ready)
                    std::fprintf(stderr, "taskbench-bench: warm-up returned wrong results\n");
            } catch (const std::exception &e) {
                std::fprintf(stderr, "taskbench-bench: warm-up: %s\n", e.what());
                ready = false;
            }
        }
        status = ready ? kExitOk : kExitFailed;
        for (const std::string &w : o.workloads) {
            const Record rec = ready ? runWorkload(o, *bench, w) : failedRecord(o, w);
            if (!rec.ok)
                status = kExitFailed;
            emit(o, rec);
        }
    }
    // The cluster is closed on every path (the Client's destructor would too).
    bench.reset();
    if (client) {
        try {
            client->close();
        } catch (const std::exception &e) {
            std::fprintf(stderr, "taskbench-bench: close: %s\n", e.what());
            status = kExitFailed;
        }
    }
    for (const pid_t pid : tcpWorkers) { // closed cluster: they exit on their own
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
    return status;
}

} // namespace

int main(int argc, char **argv)
{
    bool help = false;
    const auto options = parseArguments(argc, argv, &help);
    if (help) {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    if (!options)
        return kExitUsage;
    taskbench::log::useStderr();       // stdout carries only the result lines
    taskbench::log::setLevel("error"); // as the peer silences Dask below ERROR
    Watchdog watchdog(options->timeout);
    try {
        return run(*options);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "taskbench-bench: %s\n", e.what());
        return kExitFailed;
    }
}
