// taskbench-inspect-demo: the inspect views fed by a real Client running the bench plugin.
// Submits a map of sleeping tasks with a tree reduction, some failures (root causes and the
// dependents that fail because of them), a task that succeeds on retry, and later a map
// large enough to collapse the graph into task groups. The views get the engine's event
// batches the way the workbench's bridge delivers them: collected on the engine thread,
// applied on the GUI thread at ~30 Hz.
//
//   taskbench-inspect-demo [--screenshot-dir DIR] [--processes] [--workers N] [--threads N]
//   taskbench-inspect-demo --bench-gui
//
// With --screenshot-dir it saves PNGs of each view (QWidget::grab) during and after the run
// and quits; it runs on QT_QPA_PLATFORM=offscreen.
#include "inspect/inspectbench.h"
#include "inspect/taskgraphview.h"
#include "inspect/taskstreamview.h"
#include "inspect/workerspanel.h"

#include "taskbench/client.h"
#include "taskbench/pluginloader.h"
#include "taskbench/valuecodec.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QLabel>
#include <QMainWindow>
#include <QPointer>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

using namespace taskbench;
using namespace taskbench::inspect;

namespace {

struct Inbox
{
    std::mutex mutex;
    EventBatch events;
};

class Demo : public QObject
{
public:
    Demo(std::shared_ptr<Client> client, QString screenshotDir)
        : m_client(std::move(client))
        , m_dir(std::move(screenshotDir))
        , m_inbox(std::make_shared<Inbox>())
    {
        m_window.setWindowTitle(QStringLiteral("Taskbench — inspect demo"));
        auto *split = new QSplitter(Qt::Vertical, &m_window);
        m_graph = new TaskGraphView(split);
        m_stream = new TaskStreamView(split);
        m_workers = new WorkersPanel(split);
        split->addWidget(m_graph);
        split->addWidget(m_stream);
        split->addWidget(m_workers);
        split->setSizes({470, 300, 150});
        m_window.setCentralWidget(split);
        m_window.resize(1440, 960);

        // Linked views: a selection anywhere selects everywhere.
        connect(m_graph, &TaskGraphView::taskSelected, m_stream, [this](quint64 id) {
            m_stream->selectTasks({id});
        });
        connect(m_stream, &TaskStreamView::taskSelected, m_graph, [this](quint64 id) {
            m_graph->selectTasks({id});
        });
        auto retry = [this](const QList<quint64> &ids) { run("retry", ids); };
        auto cancel = [this](const QList<quint64> &ids) { run("cancel", ids); };
        auto release = [this](const QList<quint64> &ids) {
            for (quint64 id : ids)
                m_futures.erase(id);
        };
        connect(m_graph, &TaskGraphView::retryRequested, this, retry);
        connect(m_stream, &TaskStreamView::retryRequested, this, retry);
        connect(m_graph, &TaskGraphView::cancelRequested, this, cancel);
        connect(m_stream, &TaskStreamView::cancelRequested, this, cancel);
        connect(m_graph, &TaskGraphView::releaseRequested, this, release);
        connect(m_stream, &TaskStreamView::releaseRequested, this, release);
        connect(m_graph, &TaskGraphView::showResultRequested, this, &Demo::showResult);
        connect(m_stream, &TaskStreamView::showResultRequested, this, &Demo::showResult);

        auto inbox = m_inbox;
        m_subscription = m_client->subscribe([inbox](const EventBatch &batch) {
            std::lock_guard lock(inbox->mutex);
            inbox->events.insert(inbox->events.end(), batch.begin(), batch.end());
        });
        m_workers->setClient(m_client);
        m_frame.setInterval(33);
        connect(&m_frame, &QTimer::timeout, this, &Demo::applyFrame);
        m_frame.start();
    }

    void start()
    {
        m_window.show();
        submitPhase1();
        m_clock.start();
        // Mid-run pictures: bars growing, nodes processing.
        QTimer::singleShot(700, this, [this] {
            applyFrame();
            save(m_stream, "stream-live");
            save(m_graph, "graph-live");
            m_workers->refresh();
        });
        QTimer::singleShot(1000, this, [this] { save(m_workers, "workers-live"); });
        m_poll.setInterval(50);
        connect(&m_poll, &QTimer::timeout, this, &Demo::poll);
        m_poll.start();
    }

private:
    void applyFrame()
    {
        EventBatch batch;
        {
            std::lock_guard lock(m_inbox->mutex);
            batch.swap(m_inbox->events);
        }
        if (batch.empty())
            return;
        m_graph->applyEvents(batch);
        m_stream->applyEvents(batch);
        m_workers->applyEvents(batch);
    }

    void keep(const std::vector<Future> &fs)
    {
        for (const Future &f : fs)
            keep(f);
    }
    Future keep(const Future &f)
    {
        m_futures[f.id()] = f;
        m_phase.push_back(f);
        return f;
    }

    void submitPhase1()
    {
        // A map of sleeping tasks and a tree reduction over their results.
        std::vector<std::vector<Value>> args;
        for (int i = 0; i < 16; ++i)
            args.push_back({Value(std::int64_t(i)), Value(std::int64_t(120 + (i * 173) % 420))});
        std::vector<Future> level = m_client->mapArgs("bench.slow_inc", args);
        keep(level);
        while (level.size() > 1) {
            std::vector<Future> up;
            for (std::size_t i = 0; i + 1 < level.size(); i += 2)
                up.push_back(keep(m_client->submit("bench.add", {level[i], level[i + 1]})));
            level = up;
        }
        keep(m_client->submit("bench.double", {level.front()}));

        // Failures: flaky_inc_det fails its first attempt for i % 5 == 0 (root causes); the
        // adds and the sum downstream of them fail because of them.
        std::vector<Value> inputs;
        for (int i = 0; i < 8; ++i)
            inputs.push_back(Value(std::int64_t(i)));
        std::vector<Future> flaky = m_client->map("bench.flaky_inc_det", inputs);
        keep(flaky);
        std::vector<Future> pairs;
        for (std::size_t i = 0; i + 1 < flaky.size(); i += 2)
            pairs.push_back(keep(m_client->submit("bench.add", {flaky[i], flaky[i + 1]})));
        Value::List refs;
        for (const Future &f : pairs)
            refs.push_back(f);
        keep(m_client->submit("bench.sum", {Value(refs)}));
        keep(m_client->submit("bench.fail", {Value(std::string("disk full"))}));

        // Retries: the first attempt fails (a red bar in the task stream), the retry succeeds.
        SubmitOptions retrying;
        retrying.retries = 2;
        std::vector<Value> again;
        for (int i = 10; i < 13; ++i)
            again.push_back(Value(std::int64_t(i * 5)));
        keep(m_client->map("bench.flaky_inc_det", again, retrying));
    }

    void submitPhase2()
    {
        // Enough tasks to collapse the graph into one node per task group.
        std::vector<Value> inputs;
        for (int i = 0; i < 3000; ++i)
            inputs.push_back(Value(std::int64_t(i)));
        std::vector<Future> incs = m_client->map("bench.inc", inputs);
        keep(incs);
        std::vector<std::vector<Value>> args;
        for (int i = 0; i < 400; ++i)
            args.push_back({Value(std::int64_t(i)), Value(std::int64_t(2 + i % 9))});
        keep(m_client->mapArgs("bench.slow_inc", args));
        Value::List refs;
        for (std::size_t i = 0; i < 200; ++i)
            refs.push_back(incs[i]);
        keep(m_client->submit("bench.sum", {Value(refs)}));
    }

    bool phaseDone() const
    {
        for (const Future &f : m_phase)
            if (!f.done())
                return false;
        return true;
    }

    void poll()
    {
        applyFrame();
        if (!phaseDone() && m_clock.elapsed() < 60000)
            return;
        if (m_stage == 0) {
            // Let the last frame, a layout and a workers refresh land, then take pictures.
            m_stage = 1;
            m_poll.stop();
            QTimer::singleShot(1300, this, [this] {
                applyFrame();
                save(m_graph, "graph");
                save(m_stream, "stream");
                save(m_workers, "workers");
                save(&m_window, "overview");
                m_graph->exportTo(path("graph", "svg"));
                m_graph->exportTo(path("graph", "dot"));
                m_graph->exportTo(path("graph-export", "png"));
                highlightPropagated();
            });
            return;
        }
    }

    void highlightPropagated()
    {
        // Select the sum that failed because of the flaky roots and light up its upstream.
        for (const auto &[id, f] : m_futures) {
            if (f.function() == "bench.sum" && f.status() == FutureStatus::Error) {
                m_graph->selectTasks({id});
                m_stream->selectTasks({id});
                m_graph->highlightUpstream();
                break;
            }
        }
        QTimer::singleShot(200, this, [this] {
            save(m_graph, "graph-highlight");
            m_graph->clearHighlight();
            m_graph->setLeftToRight(true);
            afterLayout([this] {
                save(m_graph, "graph-left-to-right");
                m_graph->setLeftToRight(false);
                afterLayout([this] { phase2(); });
            });
        });
    }

    /// Runs `then` once the graph shows its next layout.
    void afterLayout(std::function<void()> then)
    {
        auto *once = new QObject(this);
        connect(m_graph, &TaskGraphView::layoutApplied, once, [once, then] {
            once->deleteLater();
            QTimer::singleShot(100, then);
        });
    }

    void phase2()
    {
        m_phase.clear();
        submitPhase2();
        m_clock.restart();
        m_stage = 2;
        QTimer::singleShot(250, this, [this] {
            applyFrame();
            save(m_graph, "graph-collapsed-live");
        });
        m_poll2.setInterval(50);
        connect(&m_poll2, &QTimer::timeout, this, [this] {
            applyFrame();
            if (!phaseDone() && m_clock.elapsed() < 60000)
                return;
            m_poll2.stop();
            QTimer::singleShot(1300, this, [this] {
                applyFrame();
                save(m_graph, "graph-collapsed");
                save(m_stream, "stream-big");
                save(m_workers, "workers-big");
                save(&m_window, "overview-big");
                // Double-click on a group does this: its tasks one by one.
                m_graph->setGroupExpanded(QStringLiteral("add"), true);
                afterLayout([this] {
                    save(m_graph, "graph-expanded");
                    if (!m_dir.isEmpty())
                        QCoreApplication::quit();
                });
            });
        });
        m_poll2.start();
    }

    QString path(const char *name, const char *suffix) const
    {
        return QDir(m_dir).filePath(
            QStringLiteral("%1.%2").arg(QLatin1String(name), QLatin1String(suffix)));
    }

    void save(QWidget *w, const char *name)
    {
        if (m_dir.isEmpty())
            return;
        const QString file = path(name, "png");
        if (w->grab().save(file))
            std::printf("screenshot: %s\n", qPrintable(file));
        else
            std::fprintf(stderr, "could not write %s\n", qPrintable(file));
    }

    void run(const char *what, const QList<quint64> &ids)
    {
        std::vector<Future> fs;
        for (quint64 id : ids)
            if (auto it = m_futures.find(id); it != m_futures.end())
                fs.push_back(it->second);
        auto client = m_client;
        const std::string op = what;
        (void)QtConcurrent::run([client, fs, op] {
            if (op == "retry")
                client->retry(fs);
            else
                client->cancel(fs);
        });
    }

    void showResult(quint64 id)
    {
        auto it = m_futures.find(id);
        if (it == m_futures.end())
            return;
        Future f = it->second;
        QPointer<QMainWindow> window(&m_window);
        (void)QtConcurrent::run([f, window] {
            QString text;
            try {
                text = QString::fromStdString(f.repr() + " = " + toJson(f.result()));
            } catch (const std::exception &e) {
                text = QString::fromStdString(f.key() + ": " + e.what());
            }
            QMetaObject::invokeMethod(qApp, [window, text] {
                if (window)
                    window->statusBar()->showMessage(text, 10000);
            });
        });
    }

    std::shared_ptr<Client> m_client;
    QString m_dir;
    std::shared_ptr<Inbox> m_inbox;
    Subscription m_subscription;
    QMainWindow m_window;
    TaskGraphView *m_graph;
    TaskStreamView *m_stream;
    WorkersPanel *m_workers;
    QTimer m_frame;
    QTimer m_poll;
    QTimer m_poll2;
    QElapsedTimer m_clock;
    int m_stage = 0;
    std::map<quint64, Future> m_futures;
    std::vector<Future> m_phase;
};

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("taskbench-inspect-demo"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The task graph, task stream and workers "
                                                    "views on a real cluster"));
    parser.addHelpOption();
    QCommandLineOption dirOpt(QStringLiteral("screenshot-dir"),
                              QStringLiteral("Save screenshots into DIR, then quit."),
                              QStringLiteral("DIR"));
    QCommandLineOption benchOpt(QStringLiteral("bench-gui"),
                                QStringLiteral("Print the views' benchmark figures (JSON lines)."));
    QCommandLineOption processesOpt(QStringLiteral("processes"),
                                    QStringLiteral("Process workers instead of threads."));
    QCommandLineOption workersOpt(QStringLiteral("workers"),
                                  QStringLiteral("Number of workers (default 3)."),
                                  QStringLiteral("N"),
                                  QStringLiteral("3"));
    QCommandLineOption threadsOpt(QStringLiteral("threads"),
                                  QStringLiteral("Threads per worker (default 2)."),
                                  QStringLiteral("N"),
                                  QStringLiteral("2"));
    QCommandLineOption pluginOpt(QStringLiteral("plugin"),
                                 QStringLiteral("The bench plugin library."),
                                 QStringLiteral("PATH"),
                                 QStringLiteral(TASKBENCH_PLUGIN_DIR "/libtaskbench_bench.so"));
    parser.addOptions({dirOpt, benchOpt, processesOpt, workersOpt, threadsOpt, pluginOpt});
    parser.process(app);

    if (parser.isSet(benchOpt))
        return runGuiBenchmarks();

    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    const PluginScanReport report = loader.load(parser.value(pluginOpt).toStdString());
    if (report.loaded.empty()) {
        std::fprintf(stderr,
                     "taskbench-inspect-demo: cannot load %s: %s\n",
                     qPrintable(parser.value(pluginOpt)),
                     report.refused.empty() ? "?" : report.refused.front().reason.c_str());
        return 1;
    }
    ClusterOptions options;
    options.workers = parser.value(workersOpt).toInt();
    options.threadsPerWorker = parser.value(threadsOpt).toInt();
    options.processes = parser.isSet(processesOpt);
    auto client = std::make_shared<Client>(options, registry);

    const QString dir = parser.value(dirOpt);
    if (!dir.isEmpty())
        QDir().mkpath(dir);
    Demo demo(client, dir);
    demo.start();
    const int rc = QApplication::exec();
    client->close();
    return rc;
}
