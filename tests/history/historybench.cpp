// taskbench-history-bench: what recording costs. Runs a map of bench.inc over N inputs on
// thread workers, without and with a Recorder (tracking every future), alternating, and
// prints one JSON line per pair plus a median summary. Two figures for the recorded run:
// "recorded_ms" stops the clock when the results are gathered (what a user waits for; the
// recorder may still be writing in the background), "flushed_ms" once the recorder has
// finished and everything is on disk (what a CLI that exits waits for):
//   {"bench":"history_overhead","tasks":100000,"plain_ms":..,"recorded_ms":..,"overhead_pct":..,
//    "flushed_ms":..,"flushed_overhead_pct":..}
// `taskbench-history-bench cache ...` measures the result cache instead (cachebench.cpp).
// Usage: taskbench-history-bench [--tasks N] [--repeat R] [--workers W] [--ms MS] [--db PATH]
//                                [--events-only 1] [--processes 1] [--in-process 1]
// --events-only 1 subscribes a callback that does nothing (to the events a recorder asks
// for) instead of recording: what the engine's event stream costs by itself. --processes 1 runs the
// map on process workers (taskbench-worker next to this binary) instead of threads.
// --ms MS maps bench.slow_inc (MS milliseconds of cooperative sleep each) instead of the
// trivial bench.inc, for a workload whose tasks do something.
// Every run is measured in a fresh process of its own (this program, started again with
// --child), as a `taskbench-cli map` is: a run that follows others in the same process would
// reuse their memory, which the plain runs of a pair can do and the recorded ones, which
// need more, cannot. --in-process 1 measures both in this process instead.
// The summary gives two overheads: "overhead_pct" compares the median plain and recorded
// runs, "paired_overhead_pct" is the median of each pair's own overhead (the two runs of a
// pair follow each other, so a machine that speeds up or slows down over the minutes a
// long --repeat takes moves both).
// Figures are printed, never asserted (the machine is shared and noisy).
#include "cachebench.h"

#include "taskbench/client.h"
#include "taskbench/history/recorder.h"
#include "taskbench/pluginloader.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace taskbench;
using Clock = std::chrono::steady_clock;

const char *const kBenchPlugin = TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so";

namespace {

struct Timing
{
    double runMs = 0;     ///< until the results are gathered
    double flushedMs = 0; ///< until the recorder has written everything (= runMs unrecorded)
};

Timing runOnce(const std::shared_ptr<FunctionRegistry> &registry,
               int tasks,
               int workers,
               bool processes,
               int ms,
               const std::string &db,
               history::RecorderStats *stats)
{
    ClusterOptions options;
    options.workers = workers;
    if (processes) {
        options.processes = true;
        options.pluginPaths.push_back(kBenchPlugin);
    }
    Client client(options, registry);
    std::vector<Value> inputs;
    inputs.reserve(std::size_t(tasks));
    for (int i = 0; i < tasks; ++i)
        inputs.emplace_back(i);
    const auto begin = Clock::now();
    std::optional<history::Recorder> recorder;
    Subscription noop;
    if (db == "-") // --events-only: what the engine's event stream costs by itself
        noop = client.subscribe([](const EventBatch &) {}, history::recordedEvents());
    else if (!db.empty()) {
        history::RecorderOptions ro;
        ro.databasePath = db;
        ro.session.app = "taskbench-history-bench";
        recorder.emplace(client, ro);
        if (!recorder->ok()) {
            std::fprintf(stderr, "history: %s\n", recorder->errorString().c_str());
            std::exit(1);
        }
    }
    SubmitOptions so;
    if (ms > 0)
        so.kwargs["ms"] = ms;
    std::vector<Future> futures
        = client.map(ms > 0 ? "bench.slow_inc" : "bench.inc", std::move(inputs), so);
    if (recorder)
        recorder->track(futures, so);
    const std::vector<Value> results = client.gather(futures);
    if (results.size() != std::size_t(tasks) || results.back().toInt() != tasks) {
        std::fprintf(stderr, "wrong results\n");
        std::exit(1);
    }
    const auto msSince = [&begin] {
        return std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
    };
    Timing timing;
    timing.runMs = msSince();
    if (recorder) {
        recorder->finish();
        *stats = recorder->stats();
    }
    timing.flushedMs = msSince();
    futures.clear();
    return timing;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc > 1 && std::string(argv[1]) == "cache") // the result cache's figures
        return runCacheBench(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription("What recording run history costs: a map of bench.inc with "
                                     "and without a Recorder, each run in a fresh process.");
    parser.addHelpOption();
    const QCommandLineOption tasksOpt(
        "tasks", "Inputs of the map (default 100000).", "N", "100000");
    const QCommandLineOption repeatOpt("repeat", "Pairs of runs (default 3).", "R", "3");
    const QCommandLineOption workersOpt("workers", "Workers (default 2).", "W", "2");
    const QCommandLineOption msOpt(
        "ms", "Map bench.slow_inc sleeping MS each (default 0).", "MS", "0");
    const QCommandLineOption dbOpt(
        "db", "The history database (default: a temporary one).", "PATH");
    const QCommandLineOption eventsOnlyOpt(
        "events-only",
        "1: subscribe a callback that does nothing (to what a recorder asks for).",
        "0|1",
        "0");
    const QCommandLineOption processesOpt("processes", "1: run on process workers.", "0|1", "0");
    const QCommandLineOption inProcessOpt(
        "in-process", "1: measure both runs in this process.", "0|1", "0");
    const QCommandLineOption childOpt(
        "child", "Internal: run once (plain|recorded) and print the timing.", "KIND");
    parser.addOptions({tasksOpt,
                       repeatOpt,
                       workersOpt,
                       msOpt,
                       dbOpt,
                       eventsOnlyOpt,
                       processesOpt,
                       inProcessOpt,
                       childOpt});
    parser.process(app); // unknown options and --help end here, before any run
    const auto number = [&parser](const QCommandLineOption &opt, int min) {
        bool ok = false;
        const int v = parser.value(opt).toInt(&ok);
        if (!ok || v < min) {
            std::fprintf(stderr,
                         "--%s: '%s' is not a whole number >= %d\n",
                         qPrintable(opt.names().constFirst()),
                         qPrintable(parser.value(opt)),
                         min);
            std::exit(2);
        }
        return v;
    };
    const int tasks = number(tasksOpt, 1), repeat = number(repeatOpt, 1),
              workers = number(workersOpt, 1), ms = number(msOpt, 0);
    const bool eventsOnly = number(eventsOnlyOpt, 0) != 0;
    const bool processes = number(processesOpt, 0) != 0;
    const bool inProcess = number(inProcessOpt, 0) != 0;
    std::string db = parser.value(dbOpt).toStdString();
    const std::string child = parser.value(childOpt).toStdString(); // run once here
    if (!child.empty() && child != "plain" && child != "recorded") {
        std::fprintf(stderr, "--child: 'plain' or 'recorded', not '%s'\n", child.c_str());
        return 2;
    }
    QTemporaryDir tmp;
    if (db.empty())
        db = tmp.filePath("history.sqlite").toStdString();

    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    if (loader.load(kBenchPlugin).loaded.empty()) {
        std::fprintf(stderr, "cannot load the bench plugin from %s\n", TASKBENCH_PLUGIN_DIR);
        return 1;
    }
    if (inProcess || !child.empty()) // warm-up: threads, code and the plugin's pages
        runOnce(registry, std::min(tasks, 10'000), workers, processes, 0, {}, nullptr);
    const std::string recordTo = eventsOnly ? "-" : db;
    if (!child.empty()) {
        history::RecorderStats stats;
        const Timing t = runOnce(
            registry, tasks, workers, processes, ms, child == "plain" ? "" : recordTo, &stats);
        std::printf("%.3f %.3f %llu %llu %.3f\n",
                    t.runMs,
                    t.flushedMs,
                    static_cast<unsigned long long>(stats.rowsWritten),
                    static_cast<unsigned long long>(stats.transactions),
                    stats.writeMs);
        return 0;
    }
    // One run in a fresh process: this program again, with the same options.
    const auto runChild = [&](bool record, history::RecorderStats *stats) {
        QStringList args;
        for (int i = 1; i < argc; ++i)
            args << QString::fromLocal8Bit(argv[i]);
        args << "--child" << (record ? "recorded" : "plain") << "--db"
             << QString::fromStdString(db);
        QProcess proc;
        proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        proc.start(QCoreApplication::applicationFilePath(), args);
        if (!proc.waitForFinished(-1) || proc.exitCode() != 0) {
            std::fprintf(stderr, "a measured run failed (exit code %d)\n", proc.exitCode());
            std::exit(1);
        }
        Timing t;
        unsigned long long rows = 0, transactions = 0;
        double writeMs = 0;
        if (std::sscanf(proc.readAllStandardOutput().constData(),
                        "%lf %lf %llu %llu %lf",
                        &t.runMs,
                        &t.flushedMs,
                        &rows,
                        &transactions,
                        &writeMs)
            != 5) {
            std::fprintf(stderr, "a measured run printed no timing\n");
            std::exit(1);
        }
        if (stats) {
            stats->rowsWritten = rows;
            stats->transactions = transactions;
            stats->writeMs = writeMs;
        }
        return t;
    };
    std::vector<double> plain, recorded, flushed, pairOverheads;
    for (int r = 0; r < repeat; ++r) {
        history::RecorderStats stats;
        const double p = inProcess
                             ? runOnce(registry, tasks, workers, processes, ms, {}, nullptr).runMs
                             : runChild(false, nullptr).runMs;
        const Timing w = inProcess
                             ? runOnce(registry, tasks, workers, processes, ms, recordTo, &stats)
                             : runChild(true, &stats);
        plain.push_back(p);
        pairOverheads.push_back(100.0 * (w.runMs - p) / p);
        recorded.push_back(w.runMs);
        flushed.push_back(w.flushedMs);
        std::printf("{\"bench\":\"history_overhead_run\",\"tasks\":%d,\"workers\":%d,\"processes\":"
                    "%d,\"ms\":%d,"
                    "\"plain_ms\":%.1f,\"recorded_ms\":%.1f,\"overhead_pct\":%.1f,"
                    "\"flushed_ms\":%.1f,\"flushed_overhead_pct\":%.1f,"
                    "\"rows\":%llu,\"transactions\":%llu,\"write_ms\":%.1f}\n",
                    tasks,
                    workers,
                    processes ? 1 : 0,
                    ms,
                    p,
                    w.runMs,
                    100.0 * (w.runMs - p) / p,
                    w.flushedMs,
                    100.0 * (w.flushedMs - p) / p,
                    static_cast<unsigned long long>(stats.rowsWritten),
                    static_cast<unsigned long long>(stats.transactions),
                    stats.writeMs);
        std::fflush(stdout);
    }
    const double p = median(plain), w = median(recorded), f = median(flushed);
    std::printf("{\"bench\":\"history_overhead\",\"tasks\":%d,\"workers\":%d,\"processes\":%d,"
                "\"ms\":%d,\"repeat\":%d,"
                "\"plain_ms\":%.1f,\"recorded_ms\":%.1f,\"overhead_pct\":%.1f,"
                "\"paired_overhead_pct\":%.1f,"
                "\"flushed_ms\":%.1f,\"flushed_overhead_pct\":%.1f,\"db_bytes\":%lld}\n",
                tasks,
                workers,
                processes ? 1 : 0,
                ms,
                repeat,
                p,
                w,
                100.0 * (w - p) / p,
                median(pairOverheads),
                f,
                100.0 * (f - p) / p,
                static_cast<long long>(QFile(QString::fromStdString(db)).size()));
    return 0;
}
