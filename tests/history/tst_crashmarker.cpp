// The crash marker (history/crashmarker.h): a child process that installs it and then
// faults, aborts or is sent a signal still dies of that signal, leaves the signal's name
// beside the database, and the next open of the history names it in its notice.
#include "taskbench/history/crashmarker.h"
#include "taskbench/history/historystore.h"

#include <QFile>
#include <QSqlQuery>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

using namespace taskbench::history;

namespace {

enum class Death { Fault, Abort, Sent };

/// Forks a child that installs the marker for `db` and dies as asked; its pid and status.
std::pair<pid_t, int> crashChild(const std::string &db, Death death)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Like a fresh process: not QtTest's crash handler underneath.
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
            std::signal(sig, SIG_DFL);
        if (!installCrashMarker(db))
            ::_exit(90);
        switch (death) {
        case Death::Fault: {
            volatile std::uintptr_t address = 0;
            *reinterpret_cast<volatile int *>(address) = 1;
            break;
        }
        case Death::Abort:
            std::abort();
        case Death::Sent:
            ::kill(::getpid(), SIGBUS);
            break;
        }
        ::_exit(91); // not reached
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {pid, status};
}

} // namespace

class TestCrashMarker : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void test_childDiesOfItsSignalAndNamesIt_data()
    {
        QTest::addColumn<int>("death");
        QTest::addColumn<int>("signal");
        QTest::addColumn<QString>("name");
        QTest::newRow("fault") << int(Death::Fault) << SIGSEGV << "SIGSEGV";
        QTest::newRow("abort") << int(Death::Abort) << SIGABRT << "SIGABRT";
        QTest::newRow("sent") << int(Death::Sent) << SIGBUS << "SIGBUS";
    }

    void test_childDiesOfItsSignalAndNamesIt()
    {
        QFETCH(int, death);
        QFETCH(int, signal);
        QFETCH(QString, name);
        const std::string db = m_dir.filePath("marker.sqlite").toStdString();
        const auto [pid, status] = crashChild(db, Death(death));
        QVERIFY2(WIFSIGNALED(status), qPrintable(QString::number(status)));
        QCOMPARE(WTERMSIG(status), signal);
        const std::string host = QSysInfo::machineHostName().toStdString();
        QVERIFY(QFile::exists(QString::fromStdString(crashMarkerPath(db, host, pid))));
        QCOMPARE(QString::fromStdString(takeCrashMarker(db, host, pid)), name);
        // Taken once: the marker is gone.
        QVERIFY(!QFile::exists(QString::fromStdString(crashMarkerPath(db, host, pid))));
        QCOMPARE(takeCrashMarker(db, host, pid), std::string());
    }

    void test_damagedMarkerIsIgnored()
    {
        const std::string db = m_dir.filePath("damaged.sqlite").toStdString();
        const std::string path = crashMarkerPath(db, "h", 42);
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("rm -rf /; SIGSEGV\n");
        f.close();
        QCOMPARE(takeCrashMarker(db, "h", 42), std::string());
        QVERIFY(!f.exists());
    }

    void test_nextOpenNamesTheSignal()
    {
        const std::string db = m_dir.filePath("history.sqlite").toStdString();
        {
            HistoryStore store;
            QVERIFY2(store.open(db), store.errorString().c_str());
        }
        const auto [pid, status] = crashChild(db, Death::Fault);
        QVERIFY(WIFSIGNALED(status));
        {
            // The session the crashed process would have left open (thread workers).
            HistoryStore store;
            QVERIFY(store.open(db));
            QSqlQuery q(store.database());
            q.prepare("INSERT INTO sessions(started_us, status, app, title, workers, "
                      "threads_per_worker, processes, pid, host) "
                      "VALUES(1, 'running', 'taskbench-cli', '', 2, 1, 0, ?, ?)");
            q.addBindValue(qint64(pid));
            q.addBindValue(QSysInfo::machineHostName());
            QVERIFY(q.exec());
        }
        HistoryStore next;
        QVERIFY(next.open(db));
        QStringList notices;
        for (const std::string &n : next.notices())
            notices << QString::fromStdString(n);
        const QString all = notices.join(QLatin1Char('\n'));
        QVERIFY2(all.contains("crashed (SIGSEGV)") && all.contains("thread workers"),
                 qPrintable(all));
        QCOMPARE(next.sessions().at(0).status, std::string("interrupted"));
    }
};

QTEST_MAIN(TestCrashMarker)
#include "tst_crashmarker.moc"
