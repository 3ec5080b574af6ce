// procbench: a throwaway timing harness for process workers (not a test, not the benchmark
// suite). Prints figures for: the protocol codec per item, the worker backend alone
// (makeProcessWorker driven like a scheduler would: throughput of a 100,000-task map,
// single-task round trips), and, when the engine runs process workers, the same through the
// public Client API.
//
//   procbench [--workers N] [--tasks N] [--rounds N] [--no-client]
#include "wire/protocol_p.h"
#include "workers/workerbackend_p.h"

#include "taskbench/client.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include <time.h>

using namespace taskbench;
using namespace taskbench::detail;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kWorker = TASKBENCH_BIN_DIR "/taskbench-worker";
const std::string kBench = TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so";

double secondsSince(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

/// CPU time of this thread: codec figures stay meaningful on a loaded machine.
double threadCpuSeconds()
{
    timespec ts;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

class CountingSink final : public WorkerSink
{
public:
    void completed(int, std::vector<Completion> items) override
    {
        std::lock_guard lock(m_mutex);
        for (const Completion &c : items)
            m_failed += !c.ok;
        m_done += items.size();
        m_cv.notify_all();
    }
    void progress(std::uint64_t, int, double, std::string) override {}
    void logLine(std::uint64_t, int, std::string) override {}
    bool waitFor(std::size_t n)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, std::chrono::seconds(120), [&] { return m_done >= n; });
    }
    std::size_t failed()
    {
        std::lock_guard lock(m_mutex);
        return m_failed;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::size_t m_done = 0;
    std::size_t m_failed = 0;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double percentile(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, std::size_t(p * double(v.size())))];
}

void codecFigures()
{
    auto fn = std::make_shared<FunctionInfo>();
    fn->qualifiedName = "bench.inc";
    constexpr int kItems = 200'000;
    std::vector<Assignment> batch(kItems);
    for (int i = 0; i < kItems; ++i) {
        batch[std::size_t(i)].task = std::uint64_t(i);
        batch[std::size_t(i)].attempt = 1;
        batch[std::size_t(i)].function = fn;
        batch[std::size_t(i)].key = "inc-0123456789abcdef0123456789abcdef";
        batch[std::size_t(i)].args = {Value(i)};
    }
    std::string out;
    double t0 = threadCpuSeconds();
    for (int i = 0; i < kItems; i += 1024) {
        proto::BatchFrame frame(out, proto::BatchFrame::Kind::Execute);
        for (int j = i; j < std::min(kItems, i + 1024); ++j)
            frame.add(batch[std::size_t(j)]);
        frame.finish();
    }
    const double encodeNs = (threadCpuSeconds() - t0) * 1e9 / kItems;
    t0 = threadCpuSeconds();
    proto::FrameReader reader;
    reader.append(out);
    std::string_view payload;
    std::size_t items = 0;
    while (reader.next(&payload) == proto::FrameReader::Next::Frame)
        items += std::get<proto::Execute>(*proto::decodeMessage(payload)).items.size();
    const double decodeNs = (threadCpuSeconds() - t0) * 1e9 / kItems;
    std::printf("codec (thread CPU time): execute item %.0f bytes, encode %.0f ns, decode %.0f ns "
                "(%zu items)\n",
                double(out.size()) / kItems,
                encodeNs,
                decodeNs,
                items);

    std::string completed;
    t0 = threadCpuSeconds();
    Completion c;
    c.ok = true;
    c.attempt = 1;
    c.thread = 0;
    c.startUs = 1'700'000'000'000'000;
    c.endUs = c.startUs + 3;
    for (int i = 0; i < kItems; ++i) {
        c.task = std::uint64_t(i);
        c.result = Value(i + 1);
        proto::appendCompletionItem(completed, c);
    }
    const double cencNs = (threadCpuSeconds() - t0) * 1e9 / kItems;
    const std::string frame
        = proto::batchFrameHeader(proto::BatchFrame::Kind::Completed, kItems, completed.size())
          + completed;
    t0 = threadCpuSeconds();
    const auto m = proto::decodeMessage(std::string_view(frame).substr(4));
    const double cdecNs = (threadCpuSeconds() - t0) * 1e9 / kItems;
    std::printf("codec (thread CPU time): completion item %.0f bytes, encode %.0f ns, decode %.0f "
                "ns (%zu items)\n",
                double(completed.size()) / kItems,
                cencNs,
                cdecNs,
                std::get<proto::Completed>(*m).items.size());
}

void backendFigures(int workers, int tasks, int rounds)
{
    ClusterOptions o;
    o.processes = true;
    o.workerExecutable = kWorker;
    o.pluginPaths = {kBench};
    auto fn = std::make_shared<FunctionInfo>();
    fn->qualifiedName = "bench.inc";

    for (int repeat = 0; repeat < 3; ++repeat) {
        CountingSink sink;
        std::vector<std::unique_ptr<WorkerBackend>> ws;
        for (int i = 0; i < workers; ++i)
            ws.push_back(makeProcessWorker(i, o, sink));
        // Warm up (processes up, plugins loaded, sockets connected).
        for (auto &w : ws) {
            std::vector<Assignment> b(1);
            b[0].task = 0;
            b[0].attempt = 1;
            b[0].function = fn;
            b[0].args = {Value(0)};
            w->execute(std::move(b));
        }
        sink.waitFor(std::size_t(workers));
        const auto t0 = Clock::now();
        constexpr int kBatch = 1000;
        for (int i = 0; i < tasks; i += kBatch) {
            std::vector<Assignment> b;
            b.reserve(kBatch);
            for (int j = i; j < std::min(tasks, i + kBatch); ++j) {
                Assignment a;
                a.task = std::uint64_t(j) + 1;
                a.attempt = 1;
                a.function = fn;
                a.key = "inc-0123456789abcdef0123456789abcdef";
                a.args = {Value(j)};
                b.push_back(std::move(a));
            }
            ws[std::size_t(i / kBatch) % ws.size()]->execute(std::move(b));
        }
        if (!sink.waitFor(std::size_t(tasks + workers))) {
            std::printf("backend: TIMEOUT\n");
            return;
        }
        const double s = secondsSince(t0);
        std::printf(
            "backend: %d tasks on %d worker processes in %.3f s: %.0f tasks/s (%zu failed)\n",
            tasks,
            workers,
            s,
            tasks / s,
            sink.failed());
    }

    CountingSink sink;
    auto w = makeProcessWorker(0, o, sink);
    std::vector<double> us;
    for (int i = 0; i <= rounds; ++i) {
        std::vector<Assignment> b(1);
        b[0].task = std::uint64_t(i) + 1;
        b[0].attempt = 1;
        b[0].function = fn;
        b[0].args = {Value(i)};
        const auto t0 = Clock::now();
        w->execute(std::move(b));
        sink.waitFor(std::size_t(i) + 1);
        if (i > 0) // the first one includes the start-up
            us.push_back(secondsSince(t0) * 1e6);
    }
    std::printf("backend: single-task round trip over %d rounds: median %.1f us, p90 %.1f us, "
                "p99 %.1f us\n",
                rounds,
                median(us),
                percentile(us, 0.9),
                percentile(us, 0.99));
}

void clientFigures(int workers, int tasks, int rounds)
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    loader.load(kBench);
    ClusterOptions o;
    o.processes = true;
    o.workers = workers;
    o.workerExecutable = kWorker;
    try {
        Client client(o, registry);
        // Warm up.
        client.submit("bench.inc", {Value(-1)}).result(std::chrono::seconds(60));
        for (int repeat = 0; repeat < 3; ++repeat) {
            std::vector<Value> inputs;
            inputs.reserve(std::size_t(tasks));
            for (int i = 0; i < tasks; ++i)
                inputs.push_back(Value(i + repeat * tasks));
            const auto t0 = Clock::now();
            auto futures = client.map("bench.inc", std::move(inputs));
            const auto values = client.gather(futures, Errors::Raise, std::chrono::seconds(120));
            const double s = secondsSince(t0);
            std::printf("client: map of %d on %d process workers + gather: %.3f s, %.0f tasks/s\n",
                        tasks,
                        workers,
                        s,
                        tasks / s);
        }
        std::vector<double> us;
        for (int i = 0; i < rounds; ++i) {
            const auto t0 = Clock::now();
            const Value v = client.submit("bench.inc", {Value(1'000'000 + i)})
                                .result(std::chrono::seconds(30));
            us.push_back(secondsSince(t0) * 1e6);
        }
        std::printf("client: submit -> result over %d rounds: median %.1f us, p90 %.1f us, "
                    "p99 %.1f us\n",
                    rounds,
                    median(us),
                    percentile(us, 0.9),
                    percentile(us, 0.99));
    } catch (const std::exception &e) {
        std::printf("client: %s\n", e.what());
    }
}

} // namespace

int main(int argc, char **argv)
{
    int workers = 2, tasks = 100'000, rounds = 2000;
    bool client = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--workers" && i + 1 < argc)
            workers = std::atoi(argv[++i]);
        else if (a == "--tasks" && i + 1 < argc)
            tasks = std::atoi(argv[++i]);
        else if (a == "--rounds" && i + 1 < argc)
            rounds = std::atoi(argv[++i]);
        else if (a == "--no-client")
            client = false;
    }
    log::setLevel("warn");
    codecFigures();
    backendFigures(workers, tasks, rounds);
    if (client)
        clientFigures(workers, tasks, rounds);
}
