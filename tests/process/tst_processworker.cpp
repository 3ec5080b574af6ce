// Process workers driven directly through makeProcessWorker with a recording sink: batches
// of real tasks in a real taskbench-worker process, per-task output capture, results that
// stay on the worker (fetch, store, "#id" inputs, release), hostile clients on the socket, a
// worker that dies in every way the faults plugin knows (cause text, hand-back of what never
// ran, restart), the memory limit, drain, stop without leftovers, and the runtime folder.
// Every wait is bounded; nothing sleeps and hopes.
#include "wire/protocol_p.h"
#include "wire/transport_p.h"
#include "workers/runtimedir_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/logging.h"

#include <spdlog/sinks/ringbuffer_sink.h>

#include <QtTest>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace taskbench;
using namespace taskbench::detail;
using namespace std::chrono_literals;

extern char **environ;

namespace {

/// The worker under test; TASKBENCH_TEST_WORKER may name a wrapper (gdb, valgrind, strace).
const std::string kWorker = std::getenv("TASKBENCH_TEST_WORKER")
                                ? std::string(std::getenv("TASKBENCH_TEST_WORKER"))
                                : std::string(TASKBENCH_BIN_DIR "/taskbench-worker");
const std::string kBench = TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so";
const std::string kFaults = TASKBENCH_PLUGIN_DIR "/libtaskbench_faults.so";
const std::string kProcTest = TASKBENCH_PROCTEST_PLUGIN;
constexpr auto kWait = 30s;

std::uint64_t testSeed()
{
    if (const char *s = std::getenv("TASKBENCH_TEST_SEED"))
        return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

/// Records everything a worker reports, in order.
class Sink final : public WorkerSink
{
public:
    struct Event
    {
        enum Kind { Completed, Log, Progress, Fetched, Died } kind;
        std::uint64_t task = 0;
    };

    void completed(int, std::vector<Completion> items) override
    {
        std::lock_guard lock(m_mutex);
        for (Completion &c : items) {
            m_events.push_back({Event::Completed, c.task});
            m_completions.push_back(std::move(c));
        }
        m_cv.notify_all();
    }
    void progress(std::uint64_t task, int, double fraction, std::string text) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back({Event::Progress, task});
        m_progress.emplace_back(fraction, std::move(text));
        m_cv.notify_all();
    }
    void logLine(std::uint64_t task, int, std::string line) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back({Event::Log, task});
        m_logs.push_back(std::move(line));
        m_cv.notify_all();
    }
    void fetched(int, std::uint64_t task, std::optional<Value> value, std::string error) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back({Event::Fetched, task});
        m_fetched[task] = {std::move(value), std::move(error)};
        m_cv.notify_all();
    }
    void died(int, std::string cause) override
    {
        std::lock_guard lock(m_mutex);
        m_events.push_back({Event::Died, 0});
        m_deaths.push_back(std::move(cause));
        m_cv.notify_all();
    }

    template <class Pred>
    bool waitFor(Pred pred, std::chrono::milliseconds timeout = kWait)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, timeout, [&] { return pred(); });
    }
    bool waitCompletions(std::size_t n)
    {
        return waitFor([&] { return m_completions.size() >= n; });
    }
    bool waitDeaths(std::size_t n)
    {
        return waitFor([&] { return m_deaths.size() >= n; });
    }
    bool waitFetched(std::uint64_t task)
    {
        return waitFor([&] { return m_fetched.count(task) > 0; });
    }
    /// The completion of task (the last one, if it came back more than once).
    std::optional<Completion> completion(std::uint64_t task)
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_completions.rbegin(); it != m_completions.rend(); ++it)
            if (it->task == task)
                return *it;
        return std::nullopt;
    }
    bool waitTask(std::uint64_t task)
    {
        return waitFor([&] {
            for (const Completion &c : m_completions)
                if (c.task == task)
                    return true;
            return false;
        });
    }
    std::vector<Completion> completions()
    {
        std::lock_guard lock(m_mutex);
        return m_completions;
    }
    std::vector<std::string> deaths()
    {
        std::lock_guard lock(m_mutex);
        return m_deaths;
    }
    std::vector<std::string> logs()
    {
        std::lock_guard lock(m_mutex);
        return m_logs;
    }
    std::vector<std::pair<double, std::string>> progress()
    {
        std::lock_guard lock(m_mutex);
        return m_progress;
    }
    std::vector<Event> events()
    {
        std::lock_guard lock(m_mutex);
        return m_events;
    }
    std::pair<std::optional<Value>, std::string> fetchedValue(std::uint64_t task)
    {
        std::lock_guard lock(m_mutex);
        return m_fetched[task];
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Completion> m_completions;
    std::vector<std::string> m_deaths;
    std::vector<std::string> m_logs;
    std::vector<std::pair<double, std::string>> m_progress;
    std::map<std::uint64_t, std::pair<std::optional<Value>, std::string>> m_fetched;
    std::vector<Event> m_events;
};

FunctionPtr function(const std::string &name)
{
    static std::mutex mutex;
    static std::map<std::string, FunctionPtr> cache;
    std::lock_guard lock(mutex);
    FunctionPtr &fn = cache[name];
    if (!fn) {
        auto info = std::make_shared<FunctionInfo>();
        info->qualifiedName = name;
        fn = info;
    }
    return fn;
}

Assignment task(std::uint64_t id, const std::string &fn, std::vector<Value> args, int attempt = 1)
{
    Assignment a;
    a.task = id;
    a.attempt = attempt;
    a.function = function(fn);
    a.args = std::move(args);
    a.key = fn + "-" + std::to_string(id);
    return a;
}

std::vector<Assignment> batchOf(Assignment a)
{
    std::vector<Assignment> v;
    v.push_back(std::move(a));
    return v;
}

Bytes expectedBytes(std::size_t n)
{
    Bytes b;
    b.data.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        b.data[i] = std::uint8_t(i * 31 + 7);
    return b;
}

int openFds()
{
    int n = 0;
    for ([[maybe_unused]] const auto &e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

bool processGone(long pid)
{
    return ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
}

/// Raw client on a unix socket (the hostile connections).
int connectRaw(const std::string &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void writeAll(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0)
            return; // the other side gave up on us: fine
        bytes.remove_prefix(std::size_t(n));
    }
}

} // namespace

class tst_ProcessWorker : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void test_executeBatches_data();
    void test_executeBatches();
    void test_outputCapture();
    void test_logAndProgressBeforeCompletion();
    void test_remoteResultAndFetch();
    void test_storeAndLocalRefs();
    void test_release();
    void test_errorsKeepTheWorker();
    void test_unknownFunction();
    void test_cancel();
    void test_drain();
    void test_garbageClients();
    void test_faults_data();
    void test_faults();
    void test_killCause();
    void test_deathShowsLastOutput();
    void test_memoryLimit();
    void test_versionMismatch();
    void test_workerRejectsBadScheduler_data();
    void test_workerRejectsBadScheduler();
    void test_missingExecutable();
    void test_stopLeavesNothing();
    void test_staleRuntimeFolders();

private:
    ClusterOptions options(int threads = 1) const
    {
        ClusterOptions o;
        o.threadsPerWorker = threads;
        o.processes = true;
        o.workerExecutable = kWorker;
        o.pluginPaths = {kBench, kFaults, kProcTest};
        o.runtimeDir = m_runtime.path().toStdString();
        return o;
    }
    QTemporaryDir m_runtime{QDir::tempPath() + "/tbproc-XXXXXX"};
};

void tst_ProcessWorker::initTestCase()
{
    QVERIFY(m_runtime.isValid());
    // Sanitizer builds: let a worker's SIGSEGV be a SIGSEGV (the sanitizers would turn it
    // into a report and exit code 1). Only the worker processes read this.
    for (const char *var : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
        const char *old = std::getenv(var);
        const std::string value = std::string(old ? old : "") + (old && *old ? ":" : "")
                                  + "handle_segv=0:handle_abort=0";
        ::setenv(var, value.c_str(), 1);
    }
    for (const std::string &f : {kWorker, kBench, kFaults, kProcTest})
        QVERIFY2(QFile::exists(QString::fromStdString(f)), f.c_str());
}

void tst_ProcessWorker::test_executeBatches_data()
{
    QTest::addColumn<int>("threads");
    for (int t : {1, 2, 4, 8})
        QTest::addRow("%d threads", t) << t;
}

void tst_ProcessWorker::test_executeBatches()
{
    QFETCH(int, threads);
    Sink sink;
    auto w = makeProcessWorker(3, options(threads), sink);
    QVERIFY(w->holdsResults());
    QCOMPARE(w->threads(), threads);
    QVERIFY(w->pid() > 0);
    QVERIFY(w->pid() != ::getpid());

    std::uint64_t next = 1;
    std::size_t total = 0;
    for (std::size_t size : {1, 10, 1000, 2500, 1}) {
        std::vector<Assignment> batch;
        for (std::size_t i = 0; i < size; ++i, ++next)
            batch.push_back(task(next, "bench.inc", {Value(std::int64_t(next) * 10)}));
        w->execute(std::move(batch));
        total += size;
    }
    QVERIFY(sink.waitCompletions(total));
    std::set<std::uint64_t> seen;
    for (const Completion &c : sink.completions()) {
        QVERIFY2(c.ok, c.errorMessage.c_str());
        QVERIFY(c.started);
        QVERIFY(!c.remote);
        QCOMPARE(c.result, Value(std::int64_t(c.task) * 10 + 1));
        QVERIFY(c.thread >= 0 && c.thread < threads);
        QVERIFY(c.endUs >= c.startUs);
        QVERIFY(c.output.empty());
        seen.insert(c.task);
    }
    QCOMPARE(seen.size(), total);
    QVERIFY(sink.deaths().empty());
    w->stop();
}

void tst_ProcessWorker::test_outputCapture()
{
    Sink sink;
    auto w = makeProcessWorker(0, options(1), sink);
    std::vector<Assignment> batch;
    batch.push_back(task(1, "proctest.print", {"hello"}));
    batch.push_back(task(2, "bench.inc", {1}));
    batch.push_back(task(3, "proctest.print", {"again"}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitCompletions(3));
    const Completion first = *sink.completion(1);
    QVERIFY(first.ok);
    QCOMPARE(first.result, Value(5));
    for (const char *line : {"out:hello\n", "err:hello\n", "cout:hello\n", "raw:hello\n"})
        QVERIFY2(first.output.find(line) != std::string::npos, first.output.c_str());
    QCOMPARE(sink.completion(2)->output, std::string());
    const std::string third = sink.completion(3)->output;
    QVERIFY2(third.find("raw:again\n") != std::string::npos, third.c_str());
    QVERIFY2(third.find("hello") == std::string::npos, third.c_str());
    QCOMPARE(third.size(),
             first.output.size() - 4 * std::string("hello").size()
                 + 4 * std::string("again").size());
}

void tst_ProcessWorker::test_logAndProgressBeforeCompletion()
{
    Sink sink;
    auto w = makeProcessWorker(0, options(1), sink);
    w->execute(batchOf(task(5, "bench.log_and_progress", {3})));
    QVERIFY(sink.waitTask(5));
    QCOMPARE(sink.completion(5)->result, Value(3));
    QCOMPARE(sink.logs(),
             (std::vector<std::string>{"log line 1/3", "log line 2/3", "log line 3/3"}));
    const auto progress = sink.progress();
    QCOMPARE(progress.size(), std::size_t(3));
    QCOMPARE(progress.back().first, 1.0);
    QCOMPARE(progress.back().second, std::string("3/3"));
    // Lines and progress reach the sink before the task's completion.
    const auto events = sink.events();
    QCOMPARE(events.back().kind, Sink::Event::Completed);
    QCOMPARE(events.size(), std::size_t(7));
}

void tst_ProcessWorker::test_remoteResultAndFetch()
{
    Sink sink;
    auto w = makeProcessWorker(1, options(2), sink);
    constexpr std::size_t kBig = 3 << 20;
    std::vector<Assignment> batch;
    batch.push_back(task(10, "proctest.make_bytes", {std::int64_t(kBig)}));
    batch.push_back(task(11, "proctest.make_bytes", {16}));
    batch.push_back(task(12, "proctest.make_bytes", {1021}));
    batch.push_back(task(13, "proctest.make_bytes", {1022}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitCompletions(4));

    const Completion big = *sink.completion(10);
    QVERIFY(big.ok);
    QVERIFY(big.remote);
    QVERIFY(big.result.isNull());
    QCOMPARE(big.typeName, std::string("bytes[") + std::to_string(kBig) + "]");
    QVERIFY(big.bytes >= kBig && big.bytes <= kBig + 9);
    const Completion small = *sink.completion(11);
    QVERIFY(!small.remote);
    QCOMPARE(small.result, Value(expectedBytes(16)));
    QVERIFY(!sink.completion(12)->remote); // 3 + 1021 bytes of CBOR: exactly 1 KiB
    QCOMPARE(sink.completion(12)->bytes, std::uint64_t(1024));
    QVERIFY(sink.completion(13)->remote); // 3 + 1022 bytes: one too many

    w->fetch({10, 11, 999});
    QVERIFY(sink.waitFetched(10) && sink.waitFetched(11) && sink.waitFetched(999));
    QCOMPARE(sink.fetchedValue(10).first, std::optional<Value>(Value(expectedBytes(kBig))));
    QCOMPARE(sink.fetchedValue(11).first, std::optional<Value>(Value(expectedBytes(16))));
    const auto missing = sink.fetchedValue(999);
    QVERIFY(!missing.first);
    QVERIFY2(missing.second.find("does not hold") != std::string::npos, missing.second.c_str());
}

void tst_ProcessWorker::test_storeAndLocalRefs()
{
    Sink sink;
    auto w = makeProcessWorker(2, options(1), sink);
    w->store(900, Value(41));
    w->store(901, Value(10));
    std::vector<Assignment> batch;
    batch.push_back(task(1, "bench.inc", {Value::ref("#900")}));
    batch.push_back(
        task(2, "bench.sum", {Value::list({Value::ref("#900"), Value::ref("#901"), 1})}));
    batch.push_back(task(3, "proctest.make_bytes", {5000}));
    batch.push_back(task(4, "bench.inc", {Value::ref("#12345")}));
    batch.push_back(task(5, "bench.inc", {Value::ref("not-a-local-id")}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitCompletions(5));
    QCOMPARE(sink.completion(1)->result, Value(42));
    QCOMPARE(sink.completion(2)->result, Value(52));
    QVERIFY(sink.completion(3)->remote);
    const Completion missing = *sink.completion(4);
    QVERIFY(!missing.ok);
    QCOMPARE(missing.errorType, std::string(proto::kMissingDataError));
    QVERIFY2(missing.errorMessage.find("#12345") != std::string::npos,
             missing.errorMessage.c_str());
    QCOMPARE(sink.completion(5)->errorType, std::string(proto::kMissingDataError));

    // A result made here feeds a later task here, never leaving the process.
    w->execute(batchOf(task(6, "proctest.echo", {Value::ref("#3")})));
    QVERIFY(sink.waitTask(6));
    QVERIFY(sink.completion(6)->remote);
    w->fetch({6});
    QVERIFY(sink.waitFetched(6));
    QCOMPARE(sink.fetchedValue(6).first, std::optional<Value>(Value(expectedBytes(5000))));
}

void tst_ProcessWorker::test_release()
{
    Sink sink;
    auto w = makeProcessWorker(0, options(1), sink);
    w->store(77, Value(5));
    w->execute(batchOf(task(1, "bench.inc", {Value::ref("#77")})));
    QVERIFY(sink.waitTask(1));
    QCOMPARE(sink.completion(1)->result, Value(6));
    w->releaseResults({77, 1});
    w->execute(batchOf(task(2, "bench.inc", {Value::ref("#77")})));
    QVERIFY(sink.waitTask(2));
    QCOMPARE(sink.completion(2)->errorType, std::string(proto::kMissingDataError));
    w->fetch({1});
    QVERIFY(sink.waitFetched(1));
    QVERIFY(!sink.fetchedValue(1).first);
}

void tst_ProcessWorker::test_errorsKeepTheWorker()
{
    Sink sink;
    auto w = makeProcessWorker(0, options(1), sink);
    const long pid = w->pid();
    std::vector<Assignment> batch;
    batch.push_back(task(1, "faults.throw_runtime", {"boom"}));
    batch.push_back(task(2, "faults.throw_nonstd", {"int"}));
    batch.push_back(task(3, "faults.throw_nonstd", {"struct"}));
    batch.push_back(task(4, "bench.inc", {"not an int"}));
    batch.push_back(task(5, "faults.ok", {7}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitCompletions(5));
    const Completion rt = *sink.completion(1);
    QVERIFY(!rt.ok);
    QCOMPARE(rt.errorType, std::string("std::runtime_error"));
    QCOMPARE(rt.errorMessage, std::string("boom"));
    QCOMPARE(sink.completion(2)->errorType, std::string("int"));
    QVERIFY(sink.completion(2)->errorMessage.find("non-standard exception") != std::string::npos);
    QVERIFY(!sink.completion(3)->ok);
    QCOMPARE(sink.completion(4)->errorType, std::string("TypeError"));
    QCOMPARE(sink.completion(5)->result, Value(7));
    QVERIFY(sink.deaths().empty());
    QCOMPARE(w->pid(), pid);
}

void tst_ProcessWorker::test_unknownFunction()
{
    Sink sink;
    ClusterOptions o = options(1);
    o.pluginPaths = {kBench, "/nonexistent/libtaskbench_nope.so"};
    auto w = makeProcessWorker(0, o, sink);
    std::vector<Assignment> batch;
    batch.push_back(task(1, "nope.f", {}));
    batch.push_back(task(2, "faults.ok", {1})); // faults not passed to this worker
    batch.push_back(task(3, "bench.inc", {1}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitCompletions(3));
    QCOMPARE(sink.completion(1)->errorType, std::string("UnknownFunction"));
    QCOMPARE(sink.completion(2)->errorType, std::string("UnknownFunction"));
    QCOMPARE(sink.completion(3)->result, Value(2));
}

void tst_ProcessWorker::test_cancel()
{
    Sink sink;
    auto w = makeProcessWorker(0, options(1), sink);
    std::vector<Assignment> batch;
    batch.push_back(task(1, "bench.sleep_ms", {60'000}));
    batch.push_back(task(2, "bench.sleep_ms", {60'000}));
    w->execute(std::move(batch));
    const auto start = std::chrono::steady_clock::now();
    w->cancelTask(1); // running (or about to run): cooperative
    w->cancelTask(2); // queued: never starts
    QVERIFY(sink.waitCompletions(2));
    QVERIFY(std::chrono::steady_clock::now() - start < 20s);
    for (std::uint64_t t : {1, 2}) {
        const Completion c = *sink.completion(t);
        QVERIFY(!c.ok);
        QCOMPARE(c.errorType, std::string("CancelledError"));
    }
    QVERIFY(sink.deaths().empty());
}

void tst_ProcessWorker::test_drain()
{
    Sink sink;
    auto w = makeProcessWorker(0, options(1), sink);
    std::vector<Assignment> batch;
    batch.push_back(task(1, "bench.log_and_progress", {1}));
    batch.push_back(task(2, "bench.sleep_ms", {300}));
    for (std::uint64_t t = 3; t < 53; ++t)
        batch.push_back(task(t, "bench.inc", {Value(std::int64_t(t))}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitTask(1));
    w->drain();
    QVERIFY(sink.waitCompletions(52));
    std::map<std::uint64_t, int> count;
    int handedBack = 0;
    for (const Completion &c : sink.completions()) {
        ++count[c.task];
        if (!c.started) {
            ++handedBack;
            QVERIFY(c.attempt == 1);
        } else {
            QVERIFY(c.ok);
        }
    }
    QCOMPARE(count.size(), std::size_t(52)); // each exactly once
    for (const auto &[t, n] : count)
        QCOMPARE(n, 1);
    QVERIFY2(handedBack >= 50, qPrintable(QString::number(handedBack)));
    // The worker still takes work after a drain.
    w->execute(batchOf(task(100, "bench.inc", {1})));
    QVERIFY(sink.waitTask(100));
}

void tst_ProcessWorker::test_garbageClients()
{
    const std::uint64_t seed = testSeed();
    qInfo("seed %llu (set TASKBENCH_TEST_SEED to repeat)", (unsigned long long)seed);
    std::mt19937_64 rng(seed);
    Sink sink;
    auto w = makeProcessWorker(4, options(1), sink);
    const long pid = w->pid();
    w->execute(batchOf(task(1, "bench.inc", {1})));
    QVERIFY(sink.waitTask(1));

    std::vector<std::string> sockets;
    for (const auto &e :
         std::filesystem::recursive_directory_iterator(m_runtime.path().toStdString()))
        if (e.is_socket() && e.path().filename().string().rfind("worker-4-", 0) == 0)
            sockets.push_back(e.path().string());
    QCOMPARE(sockets.size(), std::size_t(1));
    const std::string path = sockets[0];

    std::vector<int> fds;
    // Random bytes.
    for (int i = 0; i < 5; ++i) {
        std::string junk(std::size_t(rng() % 4096 + 1), '\0');
        for (char &c : junk)
            c = char(rng());
        const int fd = connectRaw(path);
        QVERIFY(fd >= 0);
        writeAll(fd, junk);
        fds.push_back(fd);
    }
    // An absurd length, a well-formed Hello with a wrong token, a Completed without a Hello,
    // a connection that says nothing, one that closes at once.
    {
        const int fd = connectRaw(path);
        writeAll(fd, std::string("\xff\xff\xff\xff", 4));
        fds.push_back(fd);
    }
    {
        proto::Hello h;
        h.pid = ::getpid();
        h.worker = 4;
        h.token = "forged";
        const int fd = connectRaw(path);
        writeAll(fd, proto::encodeFrame(h));
        fds.push_back(fd);
    }
    {
        proto::Completed c;
        Completion fake;
        fake.task = 1;
        fake.ok = true;
        fake.result = Value(666);
        c.items.push_back(fake);
        const int fd = connectRaw(path);
        writeAll(fd, proto::encodeFrame(c));
        fds.push_back(fd);
    }
    fds.push_back(connectRaw(path));
    ::close(connectRaw(path));

    // The real worker carries on, untouched.
    std::vector<Assignment> batch;
    for (std::uint64_t t = 2; t < 202; ++t)
        batch.push_back(task(t, "bench.inc", {Value(std::int64_t(t))}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitCompletions(201));
    for (const Completion &c : sink.completions()) {
        QVERIFY(c.ok);
        QCOMPARE(c.result, Value(std::int64_t(c.task) + 1)); // the forged 666 never arrived
    }
    QVERIFY(sink.deaths().empty());
    QCOMPARE(w->pid(), pid);
    for (int fd : fds)
        ::close(fd);
}

void tst_ProcessWorker::test_faults_data()
{
    QTest::addColumn<QString>("function");
    QTest::addColumn<int>("arg");
    QTest::addColumn<QString>("cause");
#ifdef __SANITIZE_ADDRESS__
    // The address build also runs UBSan without recovery: it stops the null store first.
    QTest::newRow("segfault") << "faults.segfault" << -1 << "exited with code 1";
#else
    QTest::newRow("segfault") << "faults.segfault" << -1 << "killed by signal SIGSEGV";
#endif
    QTest::newRow("abort") << "faults.abort_task" << -1 << "killed by signal SIGABRT";
    QTest::newRow("exit 3") << "faults.exit_task" << 3 << "exited with code 3";
    QTest::newRow("exit 0") << "faults.exit_task" << 0 << "exited with code 0";
}

void tst_ProcessWorker::test_faults()
{
    QFETCH(QString, function);
    QFETCH(int, arg);
    QFETCH(QString, cause);
    Sink sink;
    auto w = makeProcessWorker(6, options(1), sink);
    const long firstPid = w->pid();

    // One thread: the fault runs first, the rest never start and must come back unstarted,
    // before died(), so that only the fault counts as "running when it died".
    std::vector<Assignment> batch;
    std::vector<Value> args;
    if (arg >= 0)
        args.push_back(arg);
    batch.push_back(task(1, function.toStdString(), args));
    for (std::uint64_t t = 2; t < 12; ++t)
        batch.push_back(task(t, "bench.inc", {Value(std::int64_t(t))}, 2));
    w->execute(std::move(batch));
    QVERIFY(sink.waitDeaths(1));
    QCOMPARE(sink.deaths().size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(sink.deaths()[0]), cause);

    const auto events = sink.events();
    std::size_t completedBeforeDeath = 0;
    for (const auto &e : events) {
        if (e.kind == Sink::Event::Died)
            break;
        if (e.kind == Sink::Event::Completed)
            ++completedBeforeDeath;
    }
    QCOMPARE(completedBeforeDeath, std::size_t(10));
    for (const Completion &c : sink.completions()) {
        QVERIFY(c.task != 1); // it was running: died() covers it
        QVERIFY(!c.started);
        QCOMPARE(c.attempt, 2);
    }
    QCOMPARE(w->pid(), 0L);
    QVERIFY(processGone(firstPid)); // reaped, not a zombie

    // Assignments sent between the death and restart() are dropped (the scheduler counts
    // them with the dead worker's tasks); fetches are answered with the cause.
    w->execute(batchOf(task(50, "bench.inc", {1})));
    w->fetch({1});
    QVERIFY(sink.waitFetched(1));
    QVERIFY(!sink.fetchedValue(1).first);
    const std::string why = sink.fetchedValue(1).second;
    QVERIFY2(why.find(cause.toStdString()) != std::string::npos, why.c_str());
    w->restart();
    w->execute(batchOf(task(51, "bench.inc", {41})));
    QVERIFY(sink.waitTask(51));
    QCOMPARE(sink.completion(51)->result, Value(42));
    QVERIFY(!sink.completion(50));
    QVERIFY(w->pid() > 0);
    QVERIFY(w->pid() != firstPid);
    QCOMPARE(sink.deaths().size(), std::size_t(1));
}

void tst_ProcessWorker::test_killCause()
{
    Sink sink;
    auto w = makeProcessWorker(7, options(2), sink);
    std::vector<Assignment> batch;
    batch.push_back(task(3, "bench.log_and_progress", {1}));
    batch.push_back(task(1, "faults.hang", {false}));
    batch.push_back(task(2, "faults.hang", {true}));
    w->execute(std::move(batch));
    QVERIFY(sink.waitTask(3)); // the process is up and running tasks
    const long pid = w->pid();
    w->kill("timed out");
    QVERIFY(sink.waitDeaths(1));
    QCOMPARE(sink.deaths(), std::vector<std::string>{"timed out"});
    QVERIFY(processGone(pid));
    w->kill("again"); // no process: nothing happens
    w->restart();
    w->execute(batchOf(task(4, "bench.inc", {1})));
    QVERIFY(sink.waitTask(4));
    QCOMPARE(sink.deaths().size(), std::size_t(1));
    // SIGKILL from outside: the signal is the cause.
    const long pid2 = w->pid();
    QVERIFY(pid2 > 0);
    ::kill(pid_t(pid2), SIGKILL);
    QVERIFY(sink.waitDeaths(2));
    QCOMPARE(sink.deaths().back(), std::string("killed by signal SIGKILL"));
}

void tst_ProcessWorker::test_deathShowsLastOutput()
{
    // What a dying worker printed last (an abort message, a sanitizer report) is not lost
    // with its task: the nanny logs it with the cause.
    auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    const auto logger = log::get("worker");
    logger->sinks().push_back(ring);
    Sink sink;
    auto w = makeProcessWorker(10, options(1), sink);
    w->execute(batchOf(task(1, "proctest.print_and_abort", {"the last words"})));
    QVERIFY(sink.waitDeaths(1));
    QCOMPARE(sink.deaths(), std::vector<std::string>{"killed by signal SIGABRT"});
    w.reset();
    logger->sinks().pop_back();
    bool found = false;
    for (const std::string &line : ring->last_formatted())
        found = found
                || (line.find("worker 10") != std::string::npos
                    && line.find("killed by signal SIGABRT") != std::string::npos
                    && line.find("the last words") != std::string::npos);
    QVERIFY(found);
}

void tst_ProcessWorker::test_memoryLimit()
{
    Sink sink;
    ClusterOptions o = options(1);
    o.memoryLimitBytes = 150ull << 20;
    auto w = makeProcessWorker(8, o, sink);
    QVERIFY(QTest::qWaitFor([&] { return w->memoryBytes() > 0; }, 20000));
    QVERIFY(w->memoryBytes() < o.memoryLimitBytes);
    w->execute(batchOf(task(1, "faults.allocate", {2000, 0})));
    QVERIFY(sink.waitDeaths(1));
    QCOMPARE(sink.deaths(), std::vector<std::string>{"memory limit exceeded"});
    w->restart();
    w->execute(batchOf(task(2, "bench.inc", {1})));
    QVERIFY(sink.waitTask(2));
    QVERIFY(sink.completion(2)->ok);
}

void tst_ProcessWorker::test_versionMismatch()
{
    // A worker build that speaks another protocol version: refused with a clear cause.
    const QString script = m_runtime.path() + "/old-worker.sh";
    {
        std::ofstream f(script.toStdString());
        f << "#!/bin/sh\nexec '" << kWorker << "' \"$@\" --speak-version 999\n";
    }
    QFile::setPermissions(script, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    Sink sink;
    ClusterOptions o = options(1);
    o.workerExecutable = script.toStdString();
    auto w = makeProcessWorker(9, o, sink);
    w->execute(batchOf(task(1, "bench.inc", {1})));
    QVERIFY(sink.waitDeaths(1));
    const std::string cause = sink.deaths()[0];
    QVERIFY2(cause.find("protocol version mismatch") != std::string::npos, cause.c_str());
    QVERIFY2(cause.find("999") != std::string::npos, cause.c_str());
    QCOMPARE(sink.completions().size(), std::size_t(1));
    QVERIFY(!sink.completions()[0].started); // never ran: handed back
}

void tst_ProcessWorker::test_workerRejectsBadScheduler_data()
{
    QTest::addColumn<QByteArray>("reply");
    QTest::addColumn<int>("exitCode");
    auto bytes = [](const std::string &s) { return QByteArray(s.data(), qsizetype(s.size())); };
    const std::string hello = proto::encodeFrame(proto::Hello{});
    proto::Hello old;
    old.version = proto::kProtocolVersion + 1;
    QTest::newRow("garbage") << QByteArray("\x00\x00\x00\x05hello", 9) << 2;
    QTest::newRow("oversized") << QByteArray("\xff\xff\xff\xff", 4) << 2;
    QTest::newRow("wrong version") << bytes(proto::encodeFrame(old)) << 2;
    QTest::newRow("no hello") << bytes(proto::encodeFrame(proto::Execute{})) << 2;
    QTest::newRow("hello twice") << bytes(hello + hello) << 2;
    // A frame whose payload ends in the middle of the message (the length says so).
    proto::Execute ex;
    ex.items.push_back({1, 1, "bench.inc", "k", {Value(1)}, false});
    const std::string cut = proto::encodeFrame(ex).substr(proto::kFrameHeaderBytes, 20);
    const char len[4] = {0, 0, 0, char(cut.size())};
    QTest::newRow("truncated execute") << bytes(hello + std::string(len, 4) + cut) << 2;
    // The orderly ends: Shutdown, or the scheduler going away (empty reply: close).
    QTest::newRow("shutdown") << bytes(hello + proto::encodeFrame(proto::Shutdown{})) << 0;
    QTest::newRow("scheduler gone") << QByteArray() << 0;
}

void tst_ProcessWorker::test_workerRejectsBadScheduler()
{
    // The test plays the scheduler: the worker must exit (2 for a broken peer, 0 for an
    // orderly end), never crash or hang.
    QFETCH(QByteArray, reply);
    QFETCH(int, exitCode);
    const std::string path = m_runtime.path().toStdString() + "/fake.sock";
    auto listener = listenUnix(path);
    // posix_spawn rather than QProcess: Qt's fork path confuses ThreadSanitizer builds.
    std::vector<std::string> args
        = {kWorker, "--connect", path, "--id", "1", "--plugin", kBench, "--log-level", "off"};
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    QCOMPARE(::posix_spawn(&pid, kWorker.c_str(), nullptr, nullptr, argv.data(), environ), 0);
    int status = -1;
    auto finished = [&] { return ::waitpid(pid, &status, WNOHANG) == pid; };
    auto reapOnFailure = qScopeGuard([&] {
        if (status == -1) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
        }
    });
    std::unique_ptr<Connection> conn;
    QVERIFY(QTest::qWaitFor([&] { return bool(conn = listener->accept()); }, 20000));
    proto::FrameReader reader;
    std::string_view payload;
    QVERIFY(QTest::qWaitFor(
        [&] {
            reader.readFrom(conn->fd());
            return reader.next(&payload) == proto::FrameReader::Next::Frame;
        },
        20000));
    const auto hello = proto::decodeMessage(payload);
    QVERIFY(hello && std::holds_alternative<proto::Hello>(*hello));
    QCOMPARE(std::get<proto::Hello>(*hello).worker, 1);
    QCOMPARE(std::get<proto::Hello>(*hello).pid, std::int64_t(pid));
    conn->setNonBlocking(false);
    if (reply.isEmpty())
        conn.reset();
    else
        QVERIFY(conn->writeAll(reply.constData(), std::size_t(reply.size())));
    QVERIFY(QTest::qWaitFor(finished, 20000));
    QVERIFY(WIFEXITED(status));
    QCOMPARE(WEXITSTATUS(status), exitCode);
}

void tst_ProcessWorker::test_missingExecutable()
{
    Sink sink;
    ClusterOptions o = options(1);
    o.workerExecutable = "/nonexistent/taskbench-worker";
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, makeProcessWorker(0, o, sink));
    QVERIFY(sink.deaths().empty());
}

void tst_ProcessWorker::test_stopLeavesNothing()
{
    const int fdsBefore = openFds();
    std::vector<long> pids;
    {
        Sink sink;
        auto a = makeProcessWorker(0, options(1), sink);
        auto b = makeProcessWorker(1, options(2), sink);
        pids = {a->pid(), b->pid()};
        a->execute(batchOf(task(1, "bench.inc", {1})));
        b->execute(batchOf(task(2, "faults.hang", {true})));
        QVERIFY(sink.waitTask(1));
        const auto start = std::chrono::steady_clock::now();
        a->stop();
        b->stop(); // a task that never ends: killed after the grace period
        b->stop(); // idempotent
        QVERIFY(std::chrono::steady_clock::now() - start < 10s);
        QVERIFY(sink.deaths().empty()); // stopping is not dying
        QCOMPARE(a->pid(), 0L);
    }
    for (long pid : pids)
        QVERIFY(processGone(pid)); // reaped: no zombies
    QCOMPARE(openFds(), fdsBefore);
    // The cluster folder went with the last worker.
    for (const auto &e :
         std::filesystem::recursive_directory_iterator(m_runtime.path().toStdString()))
        QVERIFY2(e.path().filename().string().rfind("cluster-", 0) != 0, e.path().c_str());
}

void tst_ProcessWorker::test_staleRuntimeFolders()
{
    QTemporaryDir root(QDir::tempPath() + "/tbstale-XXXXXX");
    const std::string base = runtimeBaseDir(root.path().toStdString());
    QCOMPARE(std::filesystem::status(base).permissions() & std::filesystem::perms::all,
             std::filesystem::perms::owner_all);
    // A pid that certainly is gone: a child we started and reaped.
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    QVERIFY(child > 0);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    const std::string dead = base + "/cluster-" + std::to_string(child) + "-deadbeef";
    const std::string mine = base + "/cluster-" + std::to_string(::getpid()) + "-0000live";
    const std::string init = base + "/cluster-1-00000001";
    const std::string other = base + "/not-a-cluster";
    for (const std::string &d : {dead, mine, init, other})
        QVERIFY(std::filesystem::create_directory(d));
    std::ofstream(dead + "/worker-0-0.sock") << "stale";

    QCOMPARE(cleanStaleRuntimeFolders(base), 1);
    QVERIFY(!std::filesystem::exists(dead));
    for (const std::string &d : {mine, init, other})
        QVERIFY(std::filesystem::exists(d));

    // A base that belongs to nobody safe is refused.
    const std::string link = root.path().toStdString() + "/taskbench-" + std::to_string(::getuid());
    std::filesystem::remove_all(link);
    std::filesystem::create_directory_symlink("/", link);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, runtimeBaseDir(root.path().toStdString()));
}

QTEST_MAIN(tst_ProcessWorker)
#include "tst_processworker.moc"
