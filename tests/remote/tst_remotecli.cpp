// taskbench-cli with remote workers: --listen opens the TCP port (printed on stderr),
// --no-local-workers leaves the work to taskbench-worker processes that join with the token
// file, and the Dask tutorial's workflow (inc, inc, add -> 5; map flaky_inc with retries,
// reduced with sum -> 55) comes out right. A malformed or busy --listen address is a usage
// error (exit 2), never a hang.
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "clirunner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr int kTimeoutMs = 120000;

using testsupport::cleanEnvironment;
using Result = testsupport::ProcessRun;

/// Runs the CLI with `workers` remote workers joining the address it prints.
Result runWithRemoteWorkers(const QStringList &args, const QString &tokenFile, int workers)
{
    Result r;
    QProcess cli;
    cli.setProcessEnvironment(cleanEnvironment());
    cli.start(
        testsupport::cliPath(),
        testsupport::withPlugins(
            QStringList{"--listen", "127.0.0.1:0", "--token-file", tokenFile, "--no-local-workers"}
            + args));
    if (!cli.waitForStarted(10000)) {
        r.failure = "the CLI did not start";
        return r;
    }
    // The address line comes before any result.
    const QRegularExpression line("listening for workers on (tcp://[0-9.]+:[0-9]+)");
    QString address;
    QDeadlineTimer deadline(30000);
    while (address.isEmpty() && !deadline.hasExpired() && cli.state() == QProcess::Running) {
        cli.waitForReadyRead(100);
        r.err += QString::fromUtf8(cli.readAllStandardError());
        if (const auto m = line.match(r.err); m.hasMatch())
            address = m.captured(1);
    }
    if (address.isEmpty()) {
        cli.kill();
        cli.waitForFinished(5000);
        r.failure = "no listen address printed: " + r.err;
        return r;
    }
    std::vector<std::unique_ptr<QProcess>> started;
    for (int i = 0; i < workers; ++i) {
        auto w = std::make_unique<QProcess>();
        w->setProcessEnvironment(cleanEnvironment());
        w->start(testsupport::binPath("taskbench-worker"),
                 {"--scheduler", address, "--token-file", tokenFile, "--threads", "2"});
        started.push_back(std::move(w));
    }
    if (!cli.waitForFinished(kTimeoutMs)) {
        cli.kill();
        cli.waitForFinished(5000);
        r.failure = "the CLI did not finish";
    }
    r.exitCode = cli.exitCode();
    r.out = QString::fromUtf8(cli.readAllStandardOutput());
    r.err += QString::fromUtf8(cli.readAllStandardError());
    for (auto &w : started) // they end with the scheduler
        if (!w->waitForFinished(10000)) {
            w->kill();
            w->waitForFinished(5000);
            r.failure = "a worker outlived the scheduler";
        }
    return r;
}

/// Runs the CLI alone; a run that did not start, hung or crashed has a failure.
Result runCli(const QStringList &args)
{
    Result r;
    testsupport::RunOptions options;
    options.timeoutMs = 30000;
    testsupport::runCli(args, options, r);
    return r;
}

} // namespace

class TestRemoteCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void test_tutorialWorkflowWithTcpWorkers()
    {
        const QString token = m_dir.filePath("cluster.token"); // created by the first run
        const QString graph = m_dir.filePath("tutorial.json");
        QFile f(graph);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"tasks": {"x": {"function": "tutorial.inc", "args": [1]},
                              "y": {"function": "tutorial.inc", "args": [2]},
                              "z": {"function": "tutorial.add",
                                    "args": [{"$ref": "x"}, {"$ref": "y"}]}},
                    "outputs": ["z"]})");
        f.close();

        const Result run = runWithRemoteWorkers({"--json", "run", graph}, token, 2);
        QVERIFY2(run.failure.isEmpty(), qPrintable(run.failure));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QCOMPARE(run.lastObject()["result"].toInt(), 5);
        QVERIFY(QFile::permissions(token)
                == (QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser
                    | QFileDevice::WriteUser));

        const Result map = runWithRemoteWorkers(
            QStringList{"--json"} + testsupport::tutorialFlakyMapArgs(), token, 2);
        QVERIFY2(map.failure.isEmpty(), qPrintable(map.failure));
        QVERIFY2(map.exitCode == 0, qPrintable(map.err));
        const QJsonObject total = map.lastObject();
        QCOMPARE(total["function"].toString(), QString("tutorial.sum"));
        QCOMPARE(total["result"].toInt(), 55);
    }

    void test_badListenAddressIsAUsageError()
    {
        const Result malformed = runCli({"--listen", "nonsense", "submit", "bench.inc", "1"});
        QVERIFY2(malformed.failure.isEmpty(), qPrintable(malformed.failure));
        QCOMPARE(malformed.exitCode, 2);
        QVERIFY2(malformed.err.contains("--listen: expected HOST:PORT"), qPrintable(malformed.err));

        // A port that is taken: refused with the reason, not a hang or a crash.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
        QCOMPARE(::listen(fd, 1), 0);
        socklen_t len = sizeof(a);
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
        const QString taken = QString("127.0.0.1:%1").arg(ntohs(a.sin_port));
        const Result busy = runCli({"--listen", taken, "submit", "bench.inc", "1"});
        ::close(fd);
        QVERIFY2(busy.failure.isEmpty(), qPrintable(busy.failure));
        QCOMPARE(busy.exitCode, 2);
        QVERIFY2(busy.err.contains("cannot listen on"), qPrintable(busy.err));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestRemoteCli)
#include "tst_remotecli.moc"
