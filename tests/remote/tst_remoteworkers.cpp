// Remote (TCP) workers through the public Client API, on loopback: taskbench-worker
// processes started by hand join a cluster that listens (ClusterOptions::listen) and run the
// Dask tutorial's workflow; a plugin file the worker lacks is shipped and cached by content
// hash; a wrong token, a wrong protocol version, garbage bytes and a silent peer are refused
// (logged with the peer's address) while the scheduler keeps working; without `listen` the
// process has no listening TCP socket; a lost remote worker's running task runs elsewhere,
// its held result is recomputed, and loseWorker names the cause.
#include "startorder.h"
#include "taskbench/client.h"
#include "taskbench/logging.h"
#include "taskbench/pluginloader.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <spdlog/sinks/ringbuffer_sink.h>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <set>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace taskbench;
using namespace std::chrono_literals;

namespace {

/// Seed of the garbage bytes (printed, so a failure can be replayed).
constexpr std::uint64_t kGarbageSeed = 20261126;

std::shared_ptr<FunctionRegistry> loadPlugins()
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    loader.scan({TASKBENCH_PLUGIN_DIR});
    return registry;
}

/// What the scheduler logged (the "worker" logger: refusals, joins, losses).
std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> logCapture()
{
    static const auto sink = [] {
        auto s = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
        log::get("worker")->sinks().push_back(s);
        log::get("worker")->set_level(spdlog::level::info);
        return s;
    }();
    return sink;
}

bool logged(const std::string &needle)
{
    for (const std::string &line : logCapture()->last_formatted())
        if (line.find(needle) != std::string::npos)
            return true;
    return false;
}

void writeToken(const QString &path, const QByteArray &token, int mode = 0600)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(token + "\n");
    f.close();
    QCOMPARE(::chmod(QFile::encodeName(path).constData(), mode_t(mode)), 0);
}

/// A taskbench-worker process joining over TCP.
class RemoteWorker
{
public:
    // posix_spawn rather than QProcess: Qt's fork path confuses ThreadSanitizer builds. Its
    // log (stderr) goes to a file that err() reads.
    RemoteWorker(const std::string &address, const QString &tokenFile, const QStringList &extra)
    {
        static std::atomic<int> serial{0};
        m_logPath = QDir::temp().filePath(
            QString("tst_remoteworkers-%1-%2.log").arg(::getpid()).arg(serial++));
        std::vector<std::string> args = {TASKBENCH_BIN_DIR "/taskbench-worker",
                                         "--scheduler",
                                         address,
                                         "--token-file",
                                         tokenFile.toStdString(),
                                         "--log-level",
                                         "info"};
        for (const QString &e : extra)
            args.push_back(e.toStdString());
        std::vector<char *> argv;
        for (std::string &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<char *> envp;
        for (char **e = environ; *e; ++e)
            if (std::strncmp(*e, "TASKBENCH_WORKER_TOKEN=", 23) != 0)
                envp.push_back(*e);
        envp.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        const QByteArray log = QFile::encodeName(m_logPath);
        posix_spawn_file_actions_addopen(
            &actions, 2, log.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (::posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0)
            m_pid = 0;
        posix_spawn_file_actions_destroy(&actions);
    }
    ~RemoteWorker()
    {
        if (!finished(0)) {
            ::kill(m_pid, SIGKILL);
            finished(5000);
        }
        QFile::remove(m_logPath);
    }
    pid_t pid() const { return m_pid; }
    int exitCode() const { return m_exitCode; }
    /// True once the process ended (waited for at most ms).
    bool finished(int ms)
    {
        if (m_pid <= 0 || m_reaped)
            return true;
        QDeadlineTimer deadline(ms);
        for (;;) {
            int status = 0;
            if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_reaped = true;
                m_exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                return true;
            }
            if (deadline.hasExpired())
                return false;
            QTest::qWait(20); // lets the cluster's threads run meanwhile
        }
    }
    QString err() const
    {
        QFile f(m_logPath);
        return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
    }
    /// Waits until its log shows needle; false after ms (or once it ended without it).
    bool waitForLog(const QString &needle, int ms = 20000)
    {
        QDeadlineTimer deadline(ms);
        while (!err().contains(needle)) {
            if (deadline.hasExpired() || finished(0))
                return err().contains(needle);
            QTest::qWait(20);
        }
        return true;
    }

private:
    QString m_logPath;
    pid_t m_pid = 0;
    bool m_reaped = false;
    int m_exitCode = -1;
};

ClusterOptions listening(const QString &tokenFile)
{
    ClusterOptions o;
    o.listen = "127.0.0.1:0";
    o.tokenFile = tokenFile.toStdString();
    o.localWorkers = false;
    return o;
}

std::size_t remoteWorkers(Client &c)
{
    std::size_t n = 0;
    for (const WorkerInfo &w : c.workers())
        n += w.remote;
    return n;
}

int portOf(const std::string &address)
{
    return std::stoi(address.substr(address.rfind(':') + 1));
}

/// A raw TCP connection to the scheduler's port (a stranger, not a worker).
int connectRaw(const std::string &address)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(std::uint16_t(portOf(address)));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// Reads until the peer closes the connection; false if it is still open after timeoutMs.
bool closedByPeer(int fd, int timeoutMs)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0)
            return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(left)) <= 0)
            continue;
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
}

/// Inodes of the TCP sockets in LISTEN state that belong to this process.
std::set<unsigned long> ownListeningTcpSockets()
{
    std::set<unsigned long> own;
    if (DIR *d = ::opendir("/proc/self/fd")) {
        while (dirent *e = ::readdir(d)) {
            char target[256];
            const std::string link = std::string("/proc/self/fd/") + e->d_name;
            const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            unsigned long inode = 0;
            if (std::sscanf(target, "socket:[%lu]", &inode) == 1)
                own.insert(inode);
        }
        ::closedir(d);
    }
    std::set<unsigned long> listening;
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string sl, local, remote, state, queues, timer, retr, uid, timeout;
            unsigned long inode = 0;
            fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout
                >> inode;
            if (state == "0A" && own.count(inode))
                listening.insert(inode);
        }
    }
    return listening;
}

} // namespace

class TestRemoteWorkers : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        logCapture();
        QVERIFY(m_dir.isValid());
        m_token = m_dir.filePath("cluster.token");
        writeToken(m_token, "0123456789abcdef0123456789abcdef");
    }

    void test_tutorialWorkflowOverTcp()
    {
        Client c(listening(m_token), loadPlugins());
        const std::string address = c.listenAddress();
        QVERIFY2(address.rfind("tcp://127.0.0.1:", 0) == 0, address.c_str());
        QVERIFY(portOf(address) > 0);
        QCOMPARE(c.tokenFile(), m_token.toStdString());
        QCOMPARE(c.workers().size(), std::size_t(0)); // no local workers

        const QString rt = m_dir.filePath("rt-tutorial");
        RemoteWorker a(
            address, m_token, {"--threads", "2", "--name", "alpha", "--runtime-dir", rt});
        RemoteWorker b(address, m_token, {"--threads", "2", "--name", "beta", "--runtime-dir", rt});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(2), 20000);
        std::set<std::string> labels;
        for (const WorkerInfo &w : c.workers()) {
            QVERIFY(w.remote);
            QCOMPARE(w.threads, 2);
            QVERIFY2(w.address.rfind("127.0.0.1:", 0) == 0, w.address.c_str());
            labels.insert(w.label);
        }
        QCOMPARE(labels, (std::set<std::string>{"alpha", "beta"}));

        // x = inc(1); y = inc(2); z = add(x, y) -> 5
        Future x = c.submit("tutorial.inc", {1});
        Future y = c.submit("tutorial.inc", {2});
        Future z = c.submit("tutorial.add", {x, y});
        QCOMPARE(z.result(60s).toInt(), 5);

        // futures = map(flaky_inc, range(10), retries=100); total = sum(futures) -> 55
        std::vector<Value> inputs;
        for (int i = 0; i < 10; ++i)
            inputs.push_back(i);
        SubmitOptions retries;
        retries.retries = 100;
        std::vector<Future> futures = c.map("tutorial.flaky_inc", inputs, retries);
        Value::List refs(futures.begin(), futures.end());
        Future total = c.submit("tutorial.sum", {Value(refs)});
        QCOMPARE(total.result(120s).toInt(), 55);

        // The scheduler's plugin paths exist here: used in place, nothing was shipped.
        QVERIFY2(a.waitForLog("as worker"), qPrintable(a.err())); // logged after plugins
        QVERIFY2(!a.err().contains("received plugin"), qPrintable(a.err()));
        QVERIFY(logged("remote worker 127.0.0.1:"));
    }

    void test_priorityChangedAfterSubmitIsHonouredByARemoteWorker()
    {
        Client c(listening(m_token), loadPlugins());
        testsupport::StartOrder started(c);
        // One remote thread: starts are sequential, in the scheduler's order.
        RemoteWorker w(c.listenAddress(),
                       m_token,
                       {"--threads", "1", "--runtime-dir", m_dir.filePath("rt-priority")});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);
        c.pause();
        std::vector<Value> inputs;
        for (int i = 0; i < 8; ++i)
            inputs.push_back(i);
        SubmitOptions impure;
        impure.pure = false;
        std::vector<Future> fs = c.map("bench.inc", inputs, impure);
        c.setPriority({fs[6], fs[7]}, 5);
        const int next = c.runNext(fs[3]);
        QVERIFY(next > 5);
        c.resume();
        QCOMPARE(c.gather(fs, Errors::Raise, 60s).size(), fs.size());
        c.deliverEvents();
        std::vector<std::uint64_t> expected;
        for (int i : {3, 6, 7, 0, 1, 2, 4, 5})
            expected.push_back(fs[std::size_t(i)].id());
        QCOMPARE(started.ids(), expected);
    }

    void test_pluginShippedToWorkerWithoutIt()
    {
        // The scheduler loads a copy of the plugin that is then deleted: the worker cannot
        // find the scheduler's path and must receive the file.
        const QString original = findPlugin("tutorial");
        QVERIFY(!original.isEmpty());
        const QString copyDir = m_dir.filePath("shipped-src");
        QVERIFY(QDir().mkpath(copyDir));
        const QString copy = copyDir + "/" + QFileInfo(original).fileName();
        QVERIFY(QFile::copy(original, copy));
        auto registry = std::make_shared<FunctionRegistry>();
        PluginLoader loader(*registry);
        QVERIFY(loader.load(copy.toStdString()).refused.empty());

        Client c(listening(m_token), registry);
        QVERIFY(QFile::remove(copy));
        const QString rt = m_dir.filePath("rt-fresh");
        RemoteWorker w(c.listenAddress(), m_token, {"--runtime-dir", rt});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);
        QCOMPARE(c.submit("tutorial.inc", {41}).result(30s).toInt(), 42);
        QVERIFY2(w.waitForLog("received plugin"), qPrintable(w.err()));

        // Cached under its content hash in the worker's runtime folder.
        QFile in(original);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray sha
            = QCryptographicHash::hash(in.readAll(), QCryptographicHash::Sha256).toHex();
        const QString cached = QString("%1/taskbench-%2/plugin-cache/%3/%4")
                                   .arg(rt)
                                   .arg(::getuid())
                                   .arg(QString::fromLatin1(sha))
                                   .arg(QFileInfo(original).fileName());
        QVERIFY2(QFile::exists(cached), qPrintable(cached));

        // A second worker with the same runtime folder takes it from the cache.
        RemoteWorker second(c.listenAddress(), m_token, {"--runtime-dir", rt});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(2), 20000);
        QVERIFY2(second.waitForLog("as worker"), qPrintable(second.err()));
        QVERIFY2(!second.err().contains("received plugin"), qPrintable(second.err()));
    }

    void test_tlsWhenAsked()
    {
        ClusterOptions o = listening(m_token);
        o.tls = true; // loopback defaults to plain TCP
        o.handshakeTimeout = 2s;
        Client c(o, loadPlugins());
        RemoteWorker a(c.listenAddress(), m_token, {"--threads", "2", "--log-level", "debug"});
        RemoteWorker b(c.listenAddress(), m_token, {"--threads", "2"});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(2), 20000);
        QVERIFY2(a.waitForLog("TLS with"), qPrintable(a.err()));
        QVERIFY(logged("(TLS, token file"));

        // Work, large values both ways (a held result moves between the workers).
        std::vector<Value> inputs;
        for (int i = 0; i < 200; ++i)
            inputs.push_back(i);
        std::vector<Future> incs = c.map("bench.inc", inputs);
        Value::List refs(incs.begin(), incs.end());
        QCOMPARE(c.submit("bench.sum", {Value(refs)}).result(30s).toInt(), 20100);
        Future big = c.submit("bench.range_list", {200000});
        QCOMPARE(big.result(30s).toList().size(), std::size_t(200000));
        QCOMPARE(c.submit("bench.sum", {big}).result(30s).toInt(), std::int64_t(19999900000));

        // A wrong token is refused inside TLS too.
        const QString wrong = m_dir.filePath("wrong-tls.token");
        writeToken(wrong, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
        RemoteWorker w(c.listenAddress(), wrong, {});
        QVERIFY(w.finished(20000));
        QCOMPARE(w.exitCode(), 2);
        QVERIFY2(w.err().contains("wrong token"), qPrintable(w.err()));

        // A peer that speaks plain bytes where TLS is expected fails the TLS handshake.
        const int g = connectRaw(c.listenAddress());
        QVERIFY(g >= 0);
        const char junk[] = "GET / HTTP/1.0\r\n\r\n";
        QVERIFY(::send(g, junk, sizeof(junk) - 1, MSG_NOSIGNAL) > 0);
        QVERIFY(closedByPeer(g, 10000));
        ::close(g);
        QTRY_VERIFY(logged("TLS handshake failed"));
        QCOMPARE(remoteWorkers(c), std::size_t(2));
    }

    void test_wrongTokenIsRefused()
    {
        Client c(listening(m_token), loadPlugins());
        const QString wrong = m_dir.filePath("wrong.token");
        writeToken(wrong, "ffffffffffffffffffffffffffffffff");
        RemoteWorker w(c.listenAddress(), wrong, {});
        QVERIFY(w.finished(20000));
        QCOMPARE(w.exitCode(), 2);
        QVERIFY2(w.err().contains("refused"), qPrintable(w.err()));
        QTRY_VERIFY(logged("refused a worker connection from 127.0.0.1:"));
        QVERIFY(logged("wrong token"));
        QCOMPARE(c.workers().size(), std::size_t(0));

        // A token file others can read is refused by the worker itself, before connecting.
        const QString open = m_dir.filePath("open.token");
        writeToken(open, "0123456789abcdef0123456789abcdef", 0644);
        RemoteWorker loose(c.listenAddress(), open, {});
        QVERIFY(loose.finished(20000));
        QCOMPARE(loose.exitCode(), 2);
        QVERIFY2(loose.err().contains("readable by nobody else"), qPrintable(loose.err()));

        RemoteWorker missing(c.listenAddress(), m_dir.filePath("no-such.token"), {});
        QVERIFY(missing.finished(20000));
        QCOMPARE(missing.exitCode(), 2);
        QVERIFY2(missing.err().contains("cannot read token file"), qPrintable(missing.err()));

        // The right token still gets in.
        RemoteWorker good(c.listenAddress(), m_token, {});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);
        QCOMPARE(c.submit("bench.inc", {1}).result(20s).toInt(), 2);
    }

    void test_wrongProtocolVersionIsRefused()
    {
        Client c(listening(m_token), loadPlugins());
        RemoteWorker w(c.listenAddress(), m_token, {"--speak-version", "99"});
        QVERIFY(w.finished(20000));
        QCOMPARE(w.exitCode(), 2);
        QVERIFY2(w.err().contains("protocol version mismatch"), qPrintable(w.err()));
        QTRY_VERIFY(logged("the worker speaks version 99"));
        QCOMPARE(c.workers().size(), std::size_t(0));
    }

    void test_garbageAndSilentPeersLeaveTheSchedulerRunning()
    {
        ClusterOptions o = listening(m_token);
        o.handshakeTimeout = 500ms;
        Client c(o, loadPlugins());
        const std::string address = c.listenAddress();

        // Random bytes (seeded): not a handshake, refused and closed.
        std::mt19937_64 random(kGarbageSeed);
        qInfo("garbage seed %llu", static_cast<unsigned long long>(kGarbageSeed));
        std::string garbage(4096, '\0');
        for (char &ch : garbage)
            ch = char(random() & 0xff);
        garbage[0] = 0; // a plausible small length prefix, so the payload is parsed
        garbage[1] = 0;
        garbage[2] = 0;
        garbage[3] = 100;
        const int g = connectRaw(address);
        QVERIFY(g >= 0);
        QCOMPARE(::send(g, garbage.data(), garbage.size(), MSG_NOSIGNAL), ssize_t(garbage.size()));
        QVERIFY(closedByPeer(g, 5000));
        ::close(g);
        QTRY_VERIFY(logged("not a Taskbench worker"));

        // A huge announced length: refused without allocating it.
        const int h = connectRaw(address);
        QVERIFY(h >= 0);
        const char huge[] = {'\xff', '\xff', '\xff', '\xff', 'x'};
        QCOMPARE(::send(h, huge, sizeof(huge), MSG_NOSIGNAL), ssize_t(sizeof(huge)));
        QVERIFY(closedByPeer(h, 5000));
        ::close(h);

        // A silent peer: dropped after the handshake timeout, not before.
        const auto start = std::chrono::steady_clock::now();
        const int s = connectRaw(address);
        QVERIFY(s >= 0);
        QVERIFY(closedByPeer(s, 10000));
        const auto waited = std::chrono::steady_clock::now() - start;
        ::close(s);
        QVERIFY2(waited >= 400ms, "dropped before the handshake timeout");
        QTRY_VERIFY(logged("no complete handshake within 500 ms"));

        // The scheduler still takes workers and runs tasks.
        RemoteWorker w(address, m_token, {});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);
        QCOMPARE(c.submit("bench.inc", {9}).result(20s).toInt(), 10);
    }

    void test_noTcpPortWithoutListen()
    {
        QVERIFY(ownListeningTcpSockets().empty());
        {
            ClusterOptions o;
            o.workers = 1;
            o.processes = true;
            o.workerExecutable = TASKBENCH_BIN_DIR "/taskbench-worker";
            Client c(o, loadPlugins());
            QCOMPARE(c.submit("bench.inc", {1}).result(20s).toInt(), 2);
            QCOMPARE(c.listenAddress(), std::string());
            QVERIFY(ownListeningTcpSockets().empty());
        }
        // The check itself sees a listening socket when there is one.
        Client c(listening(m_token), loadPlugins());
        QCOMPARE(ownListeningTcpSockets().size(), std::size_t(1));
    }

    void test_lostRemoteWorkerIsHandledLikeADeadProcess()
    {
        Client c(listening(m_token), loadPlugins());
        std::mutex mutex;
        std::vector<std::string> removals;
        Subscription sub = c.subscribe([&](const EventBatch &batch) {
            std::lock_guard lock(mutex);
            for (const Event &e : batch)
                if (e.kind == EventKind::WorkerRemoved)
                    removals.push_back(e.text());
        });
        auto a = std::make_unique<RemoteWorker>(
            c.listenAddress(), m_token, QStringList{"--name", "a"});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);

        // A large result stays on worker a; then a running task, and a is killed.
        Future big = c.submit("bench.range_list", {1000});
        big.result(20s);
        QCOMPARE(c.workers().front().resultsHeld, std::size_t(1));
        // The running task is held by a gate the test opens, not by a clock: a slow
        // machine (TSan) takes seconds to join b, and a timed task could finish first.
        const std::string gatePath = m_dir.filePath("lost-worker-gate").toStdString();
        Future held = c.submit("bench.gate", {gatePath});
        QTRY_VERIFY_WITH_TIMEOUT(!c.workers().front().running.empty(), 10000);
        RemoteWorker b(c.listenAddress(), m_token, {"--name", "b"});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(2), 20000);
        ::kill(a->pid(), SIGKILL);
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);
        QCOMPARE(c.workers().front().label, std::string("b"));

        // The running task runs again on b; the lost result is recomputed when needed.
        QTRY_VERIFY_WITH_TIMEOUT(!c.workers().front().running.empty(), 20000);
        std::ofstream{gatePath}.put('\n');
        QVERIFY(held.result(30s).isNull());
        QCOMPARE(held.attempts(), 2);
        QCOMPARE(c.submit("bench.sum", {big}).result(30s).toInt(), 499500);
        auto removed = [&] {
            std::lock_guard lock(mutex);
            return removals;
        };
        QTRY_COMPARE(removed().size(), std::size_t(1)); // events arrive in batches
        QVERIFY2(removed()[0].find("lost") != std::string::npos, removed()[0].c_str());

        // loseWorker: the launcher (a batch system) names the cause.
        Future gated = c.submit("bench.slow_inc", {5, 60000});
        QTRY_VERIFY_WITH_TIMEOUT(!c.workers().front().running.empty(), 10000);
        QVERIFY(c.loseWorker(c.workers().front().id, "slurm job 42 cancelled"));
        QVERIFY(b.finished(10000)); // its connection was closed: it exits
        QCOMPARE(c.workers().size(), std::size_t(0));
        QVERIFY(!c.loseWorker(12345, "no such worker"));
        QTRY_COMPARE(removed().size(), std::size_t(2));
        QCOMPARE(removed()[1], std::string("slurm job 42 cancelled"));
        QCOMPARE(gated.status(), FutureStatus::Pending); // waits for a worker
        gated.cancel();
    }

    void test_largeHeldResultIsFetchedOverTcp()
    {
        // A 1,000,000-element list held by a TCP worker comes back whole, also from
        // result(0s) on the finished future (it used to time out).
        Client c(listening(m_token), loadPlugins());
        RemoteWorker w(c.listenAddress(), m_token, {"--name", "big"});
        QTRY_COMPARE_WITH_TIMEOUT(remoteWorkers(c), std::size_t(1), 20000);
        constexpr std::int64_t n = 1'000'000;
        Future big = c.submit("bench.range_list", {n});
        QCOMPARE(c.wait({big}, ReturnWhen::AllCompleted, 60s).notDone.size(), std::size_t(0));
        QCOMPARE(c.workers().front().resultsHeld, std::size_t(1));
        const Value v = big.result(0s);
        QCOMPARE(v.toList().size(), std::size_t(n));
        QCOMPARE(v.toList().front().toInt(), 0);
        QCOMPARE(v.toList().back().toInt(), n - 1);
    }

private:
    static QString findPlugin(const QString &name)
    {
        QDir dir(QStringLiteral(TASKBENCH_PLUGIN_DIR));
        for (const QString &f : dir.entryList({"*" + name + "*.so"}, QDir::Files))
            return dir.filePath(f);
        return {};
    }

    QTemporaryDir m_dir;
    QString m_token;
};

QTEST_GUILESS_MAIN(TestRemoteWorkers)
#include "tst_remoteworkers.moc"
