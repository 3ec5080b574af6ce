// Slurm clusters against a real Slurm: the single-node cluster that slurm-up.sh starts on
// this host (ctest fixture "slurm"; SLURM_CONF points at it). Workers are batch jobs that
// connect back over TCP on loopback.
//
// Covers: the job script; the tutorial workflow through taskbench-cli with every worker a
// Slurm job (inc/inc/add -> 5, map flaky_inc with retries then sum -> 55); a worker job
// cancelled from outside during a map (every result still right, the cause named, a
// replacement submitted); scaling from 1 to 3 jobs and back; adaptive scaling; and that
// closing leaves no job pending or running.
//
// Without a Slurm to talk to the suite fails under CI (CI=true) and skips elsewhere.
#include "taskbench/client.h"
#include "taskbench/pluginloader.h"
#include "taskbench/slurmcluster.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "clirunner.h"

#include <algorithm>
#include <chrono>
#include <set>

using namespace taskbench;
using namespace std::chrono_literals;

namespace {

constexpr int kWorkerWaitMs = 60000; ///< submit -> connected worker (a job starts in ~1 s)

struct Run : testsupport::ProcessRun
{
    bool ok = false; ///< started and finished in time
};

Run run(const QString &program,
        const QStringList &args,
        const QString &dir = {},
        int timeoutMs = 90000)
{
    Run r;
    testsupport::RunOptions options;
    options.workingDirectory = dir;
    options.timeoutMs = timeoutMs;
    r.ok = testsupport::runProgram(program, args, options, r);
    if (!r.ok)
        r.err = r.failure;
    return r;
}

/// Ids of jobs Slurm still has pending, running or completing.
QStringList liveSlurmJobs()
{
    const Run r = run("squeue", {"-h", "-t", "PENDING,RUNNING,COMPLETING,CONFIGURING", "-o", "%i"});
    return r.out.split('\n', Qt::SkipEmptyParts);
}

std::shared_ptr<FunctionRegistry> loadPlugins()
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    loader.scan({TASKBENCH_PLUGIN_DIR});
    return registry;
}

int liveJobs(const SlurmCluster &c)
{
    const auto jobs = c.jobs();
    return int(std::count_if(jobs.begin(), jobs.end(), [](const SlurmJob &j) {
        return j.state != SlurmJobState::Ended;
    }));
}

int remoteWorkers(Client &client)
{
    const auto workers = client.workers();
    return int(std::count_if(
        workers.begin(), workers.end(), [](const WorkerInfo &w) { return w.remote; }));
}

} // namespace

class TstSlurmCluster : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    void test_jobScript();
    void test_badOptions();
    void test_cliPrintJobScript();
    void test_cliTutorialWorkflow();
    void test_scancelDuringMap();
    void test_scaleUpAndDown();
    void test_adapt();
    void test_workerCannotStart();

private:
    /// A client listening on loopback with no local workers, and a Slurm cluster for it.
    void startCluster(SlurmOptions extra = {});

    QTemporaryDir m_dir;
    QString m_tokenFile;
    std::unique_ptr<Client> m_client;
    std::unique_ptr<SlurmCluster> m_slurm;
};

void TstSlurmCluster::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_tokenFile = m_dir.filePath("cluster.token");
    // The command line records its runs: not into the user's history.
    qputenv("TASKBENCH_HISTORY_DB", m_dir.filePath("history.sqlite").toUtf8());
    const Run r = run("sinfo", {"-h", "-o", "%T"}, {}, 10000);
    if (!r.ok || r.exitCode != 0 || r.out.trimmed().isEmpty()) {
        const QString why
            = "no Slurm cluster answers (sinfo: "
              + (r.err.trimmed().isEmpty() ? r.out : r.err).trimmed()
              + "; SLURM_CONF=" + qEnvironmentVariable("SLURM_CONF")
              + "). The ctest fixture tests/slurm/slurm-up.sh starts one; it needs root.";
        if (qEnvironmentVariable("CI") == "true")
            QFAIL(qPrintable(why));
        QSKIP(qPrintable(why));
    }
}

void TstSlurmCluster::init()
{
    QVERIFY2(liveSlurmJobs().isEmpty(), "jobs left over in the queue");
}

void TstSlurmCluster::cleanup()
{
    m_slurm.reset(); // closes: cancels its jobs
    m_client.reset();
    // Nothing is left pending or running (COMPLETING jobs finish within KillWait).
    QTRY_VERIFY_WITH_TIMEOUT(liveSlurmJobs().isEmpty(), 20000);
}

void TstSlurmCluster::startCluster(SlurmOptions o)
{
    ClusterOptions co;
    co.listen = "127.0.0.1:0";
    co.tokenFile = m_tokenFile.toStdString();
    co.localWorkers = false;
    m_client = std::make_unique<Client>(co, loadPlugins());
    QVERIFY(!m_client->listenAddress().empty());
    o.schedulerAddress = m_client->listenAddress();
    o.tokenFile = m_client->tokenFile();
    o.workerExecutable = TASKBENCH_BIN_DIR "/taskbench-worker";
    o.outputPattern = m_dir.filePath("worker-%j.out").toStdString();
    o.memory = "200M";
    o.walltime = "00:10:00";
    o.pollInterval = 250ms;
    m_slurm = std::make_unique<SlurmCluster>(*m_client, o);
}

void TstSlurmCluster::test_jobScript()
{
    SlurmOptions o;
    o.cores = 4;
    o.memory = "8G";
    o.partition = "gpu";
    o.walltime = "02:30:00";
    o.account = "proj42";
    o.jobExtra = {"--qos=high", "--exclusive"};
    o.prologue = {"module load gcc"};
    o.workerExecutable = "/opt/task bench/taskbench-worker";
    o.schedulerAddress = "tcp://login1:40123";
    o.tokenFile = "/home/me/.taskbench/cluster.token";
    const QString s = QString::fromStdString(SlurmCluster::jobScript(o));
    QVERIFY2(s.startsWith("#!/usr/bin/env bash\n"), qPrintable(s));
    for (const char *line : {"#SBATCH --cpus-per-task=4\n",
                             "#SBATCH --mem=8G\n",
                             "#SBATCH --partition=gpu\n",
                             "#SBATCH --time=02:30:00\n",
                             "#SBATCH --account=proj42\n",
                             "#SBATCH --qos=high\n",
                             "#SBATCH --exclusive\n",
                             "module load gcc\n"})
        QVERIFY2(s.contains(line), qPrintable("missing " + QString(line) + " in:\n" + s));
    // The worker line: quoted executable, the address, the token, threads and a job name.
    QVERIFY2(s.contains(
                 "exec '/opt/task bench/taskbench-worker' --scheduler tcp://login1:40123 "
                 "--token-file /home/me/.taskbench/cluster.token "
                 "--threads \"${SLURM_CPUS_PER_TASK:-4}\" --name \"slurm-job-${SLURM_JOB_ID}\"\n"),
             qPrintable(s));
    // The prologue runs before the worker; directives come before any command.
    QVERIFY(s.indexOf("module load") < s.indexOf("exec "));
    QVERIFY(s.lastIndexOf("#SBATCH") < s.indexOf("module load"));
    // No partition or account: no line for them.
    SlurmOptions plain;
    const QString p = QString::fromStdString(SlurmCluster::jobScript(plain));
    QVERIFY(!p.contains("--partition") && !p.contains("--account"));
}

void TstSlurmCluster::test_badOptions()
{
    SlurmOptions o;
    o.cores = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, SlurmCluster::jobScript(o));
    o.cores = 1;
    o.jobExtra = {"--qos=high\nrm -rf ~"};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, SlurmCluster::jobScript(o));
    // A cluster needs an address its workers can reach.
    ClusterOptions local;
    local.workers = 1;
    Client client(local);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, SlurmCluster(client, SlurmOptions{}));
}

void TstSlurmCluster::test_cliPrintJobScript()
{
    const Run r = run(TASKBENCH_BIN_DIR "/taskbench-cli",
                      {"--cluster",
                       "slurm",
                       "--listen",
                       "10.1.2.3:4567",
                       "--token-file",
                       m_tokenFile,
                       "--cores",
                       "3",
                       "--memory",
                       "1G",
                       "--partition",
                       "debug",
                       "--walltime",
                       "0:20:00",
                       "--job-extra",
                       "--qos=low",
                       "--print-job-script"});
    const Run anyPort = run(TASKBENCH_BIN_DIR "/taskbench-cli",
                            {"--cluster", "slurm", "--listen", "login1:0", "--print-job-script"});
    QVERIFY2(anyPort.out.contains("--scheduler tcp://login1:PORT "), qPrintable(anyPort.out));
    QVERIFY2(r.ok && r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("#SBATCH --cpus-per-task=3\n") && r.out.contains("#SBATCH --qos=low\n")
                 && r.out.contains("--scheduler tcp://10.1.2.3:4567 "),
             qPrintable(r.out));
    // Slurm options without --cluster slurm are a usage error.
    const Run bad = run(TASKBENCH_BIN_DIR "/taskbench-cli", {"--jobs", "2", "plugins"});
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.contains("--cluster slurm"), qPrintable(bad.err));
}

void TstSlurmCluster::test_cliTutorialWorkflow()
{
    QFile graph(m_dir.filePath("tutorial.json"));
    QVERIFY(graph.open(QIODevice::WriteOnly));
    graph.write(R"({"tasks": {"x": {"function": "tutorial.inc", "args": [1]},
                              "y": {"function": "tutorial.inc", "args": [2]},
                              "z": {"function": "tutorial.add", "args": [{"$ref": "x"}, {"$ref": "y"}]}},
                    "outputs": ["z"]})");
    graph.close();
    const QStringList cluster = {"--plugins",    TASKBENCH_PLUGIN_DIR,
                                 "--cluster",    "slurm",
                                 "--listen",     "127.0.0.1:0",
                                 "--token-file", m_tokenFile,
                                 "--jobs",       "2",
                                 "--cores",      "1",
                                 "--memory",     "200M",
                                 "--partition",  "debug",
                                 "--walltime",   "00:10:00",
                                 "--timeout",    "80",
                                 "--json",       "--log-level",
                                 "info"};
    QElapsedTimer t;
    t.start();
    const Run five = run(TASKBENCH_BIN_DIR "/taskbench-cli",
                         cluster + QStringList{"run", graph.fileName()},
                         m_dir.path());
    QVERIFY2(five.ok && five.exitCode == 0, qPrintable(five.err));
    const QJsonObject z = QJsonDocument::fromJson(five.out.toUtf8()).object();
    QCOMPARE(z["result"].toInt(), 5);
    qInfo("inc/inc/add on 2 Slurm jobs: %lld ms", t.elapsed());
    // The workers ran in Slurm jobs and the CLI cancelled them at exit.
    QVERIFY2(five.err.contains("listening for workers") && five.err.contains("submitted worker job")
                 && five.err.contains("(slurm-job-"),
             qPrintable(five.err));
    QTRY_VERIFY_WITH_TIMEOUT(liveSlurmJobs().isEmpty(), 20000);

    t.restart();
    const Run sum = run(TASKBENCH_BIN_DIR "/taskbench-cli",
                        cluster + testsupport::tutorialFlakyMapArgs(),
                        m_dir.path());
    QVERIFY2(sum.ok && sum.exitCode == 0, qPrintable(sum.err));
    QCOMPARE(QJsonDocument::fromJson(sum.out.toUtf8()).object()["result"].toInt(), 55);
    qInfo("map flaky_inc + sum on 2 Slurm jobs: %lld ms", t.elapsed());
}

void TstSlurmCluster::test_scancelDuringMap()
{
    startCluster();
    m_slurm->scale(2);
    QVERIFY2(m_slurm->waitForWorkers(2, std::chrono::milliseconds(kWorkerWaitMs)),
             m_slurm->lastError().c_str());

    // 40 tasks of 150 ms on 2 one-thread workers: ~3 s; results stay on the workers.
    std::vector<Value> inputs;
    for (int i = 0; i < 40; ++i)
        inputs.push_back(Value(std::int64_t(i)));
    SubmitOptions so;
    so.kwargs["ms"] = Value(std::int64_t(150));
    const std::vector<Future> futures = m_client->map("bench.slow_inc", inputs, so);
    auto finished = [&] {
        return std::count_if(
            futures.begin(), futures.end(), [](const Future &f) { return f.done(); });
    };
    QTRY_VERIFY_WITH_TIMEOUT(finished() >= 6, 30000);

    // Cancel, from outside, the job of a worker that is running a task.
    std::string victim;
    int victimWorker = -1;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const WorkerInfo &w : m_client->workers())
                for (const SlurmJob &j : m_slurm->jobs())
                    if (w.id == j.worker && !w.running.empty()
                        && j.state == SlurmJobState::Running) {
                        victim = j.id;
                        victimWorker = w.id;
                        return true;
                    }
            return false;
        }(),
        10000);
    const Run cancel = run("scancel", {QString::fromStdString(victim)});
    QVERIFY2(cancel.ok && cancel.exitCode == 0, qPrintable(cancel.err));

    // Every result is still right: running tasks ran elsewhere, lost results were recomputed.
    const std::vector<Value> values = m_client->gather(futures, Errors::Raise, 60s);
    for (int i = 0; i < 40; ++i)
        QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
    // The task the cancelled worker was running ran again elsewhere.
    QVERIFY(std::any_of(
        futures.begin(), futures.end(), [](const Future &f) { return f.attempts() >= 2; }));

    // The job is known as lost with its cause, and a replacement keeps 2 jobs.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const SlurmJob &j : m_slurm->jobs())
                if (j.id == victim)
                    return j.state == SlurmJobState::Ended && j.lost
                           && j.cause == "job " + victim + " cancelled";
            return false;
        }(),
        20000);
    const auto workers = m_client->workers();
    QVERIFY(std::none_of(
        workers.begin(), workers.end(), [&](const WorkerInfo &w) { return w.id == victimWorker; }));
    QTRY_COMPARE_WITH_TIMEOUT(liveJobs(*m_slurm), 2, 20000);
    QCOMPARE(int(m_slurm->jobs().size()), 3);
    QVERIFY2(m_slurm->waitForWorkers(2, std::chrono::milliseconds(kWorkerWaitMs)),
             m_slurm->lastError().c_str());
}

void TstSlurmCluster::test_scaleUpAndDown()
{
    startCluster();
    m_slurm->scale(1);
    QVERIFY2(m_slurm->waitForWorkers(1, std::chrono::milliseconds(kWorkerWaitMs)),
             m_slurm->lastError().c_str());
    QCOMPARE(remoteWorkers(*m_client), 1);

    m_slurm->scale(3);
    QCOMPARE(m_slurm->target(), 3);
    QVERIFY2(m_slurm->waitForWorkers(3, std::chrono::milliseconds(kWorkerWaitMs)),
             m_slurm->lastError().c_str());
    QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(*m_client), 3, 10000);
    // Each job knows its node and worker; each worker is named after its job.
    std::set<int> ids;
    for (const SlurmJob &j : m_slurm->jobs()) {
        QCOMPARE(j.state, SlurmJobState::Running);
        QCOMPARE(QString::fromStdString(j.slurmState), QString("RUNNING"));
        QVERIFY(!j.node.empty());
        QCOMPARE(j.workerName, "slurm-job-" + j.id);
        QVERIFY(j.worker >= 0);
        ids.insert(j.worker);
    }
    QCOMPARE(int(ids.size()), 3);
    QCOMPARE(liveSlurmJobs().size(), 3);

    // Work spreads over all three; the results stay on the workers.
    std::vector<Value> inputs;
    for (int i = 0; i < 12; ++i)
        inputs.push_back(Value(std::int64_t(i)));
    SubmitOptions so;
    so.kwargs["ms"] = Value(std::int64_t(50));
    const std::vector<Future> futures = m_client->map("bench.slow_inc", inputs, so);
    const WaitResult waited = m_client->wait(futures, ReturnWhen::AllCompleted, 60s);
    QVERIFY(waited.notDone.empty());
    std::set<int> ranOn;
    for (const Future &f : futures)
        for (const Transition &t : m_client->story(f))
            if (t.to == TaskState::Processing)
                ranOn.insert(t.worker);
    QVERIFY2(ranOn.size() >= 2, "the work did not spread over the workers");

    m_slurm->scale(1);
    QTRY_COMPARE_WITH_TIMEOUT(liveJobs(*m_slurm), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(*m_client), 1, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(liveSlurmJobs().size(), 1, 20000);
    int cancelled = 0;
    for (const SlurmJob &j : m_slurm->jobs())
        if (j.cancelRequested) {
            ++cancelled;
            QCOMPARE(QString::fromStdString(j.cause), QString("scaled down"));
            QVERIFY(!j.lost);
        }
    QCOMPARE(cancelled, 2);
    // Scaling down retired the workers first: their results moved, nothing ran again.
    const std::vector<Value> values = m_client->gather(futures, Errors::Raise, 30s);
    for (int i = 0; i < 12; ++i) {
        QCOMPARE(values[std::size_t(i)].toInt(), i + 1);
        QCOMPARE(futures[std::size_t(i)].attempts(), 1);
    }
    // The one left still works.
    QCOMPARE(m_client->submit("bench.inc", {Value(std::int64_t(41))}).result(30s).toInt(), 42);
}

void TstSlurmCluster::test_adapt()
{
    SlurmOptions o;
    o.adaptCooldown = 1000ms;
    startCluster(o);
    m_slurm->adapt(0, 2);
    // No work: no jobs.
    QTest::qWait(1000); // a few poll rounds, to see that nothing is submitted
    QCOMPARE(int(m_slurm->jobs().size()), 0);

    std::vector<Value> inputs;
    for (int i = 0; i < 20; ++i)
        inputs.push_back(Value(std::int64_t(i)));
    SubmitOptions so;
    so.kwargs["ms"] = Value(std::int64_t(200));
    std::vector<Future> futures = m_client->map("bench.slow_inc", inputs, so);
    // 20 queued tasks, one core per job: up to the maximum, 2.
    QTRY_COMPARE_WITH_TIMEOUT(m_slurm->target(), 2, 10000);
    const std::vector<Value> values = m_client->gather(futures, Errors::Raise, 60s);
    QCOMPARE(values.back().toInt(), 20);
    QVERIFY(m_slurm->jobs().size() >= 2);
    futures.clear();
    // Work done: back to the minimum after the cooldown.
    QTRY_COMPARE_WITH_TIMEOUT(m_slurm->target(), 0, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(liveJobs(*m_slurm), 0, 15000);
}

void TstSlurmCluster::test_workerCannotStart()
{
    // A worker command that does not exist: every job fails at once. The cluster stops
    // submitting after maxFailedStarts jobs and says why, instead of looping forever.
    SlurmOptions o;
    o.maxFailedStarts = 2;
    startCluster(o);
    m_slurm.reset();
    o.schedulerAddress = m_client->listenAddress();
    o.tokenFile = m_client->tokenFile();
    o.workerExecutable = m_dir.filePath("no-such-worker").toStdString();
    o.outputPattern = m_dir.filePath("worker-%j.out").toStdString();
    o.pollInterval = 250ms;
    m_slurm = std::make_unique<SlurmCluster>(*m_client, o);
    m_slurm->scale(1);
    QVERIFY(!m_slurm->waitForWorkers(1, std::chrono::milliseconds(kWorkerWaitMs)));
    const QString error = QString::fromStdString(m_slurm->lastError());
    QVERIFY2(error.contains("2 Slurm jobs in a row ended before their worker connected")
                 && error.contains("worker-%j.out"),
             qPrintable(error));
    const auto jobs = m_slurm->jobs();
    QCOMPARE(int(jobs.size()), 2);
    for (const SlurmJob &j : jobs) {
        QCOMPARE(j.state, SlurmJobState::Ended);
        QVERIFY(j.lost);
        QCOMPARE(j.worker, -1);
    }
    // The job's output names the problem.
    QFile out(
        m_dir.filePath(QString("worker-%1.out").arg(QString::fromStdString(jobs.front().id))));
    QVERIFY(out.open(QIODevice::ReadOnly));
    QVERIFY2(out.readAll().contains("no-such-worker"),
             "the job output does not name the missing worker");
}

QTEST_GUILESS_MAIN(TstSlurmCluster)
#include "tst_slurmcluster.moc"
