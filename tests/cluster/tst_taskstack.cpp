// The native stack of a running task (Client::stackOf) on a real worker process: a hung
// faults.hang task's stack names the plugin function; a task killed by its timeout keeps
// the stack taken just before the kill in its error; a task that is not running, or runs on
// a thread worker, gets a clear reason instead. Needs eu-stack (elfutils): skipped without.
#include "taskbench/client.h"
#include "taskbench/pluginloader.h"

#include "clusterfixtures.h"

#include <QStandardPaths>
#include <QtTest>

using namespace taskbench;
using namespace std::chrono_literals;
using testsupport::impure;
using testsupport::loadBundledPlugins;

namespace {

ClusterOptions processes()
{
    ClusterOptions o = testsupport::processCluster();
    o.cancelGrace = 200ms;
    return o;
}

} // namespace

class TestTaskStack : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("eu-stack").isEmpty())
            QSKIP("eu-stack (elfutils) is not installed");
    }

    void test_stackOfAHungTask()
    {
        Client c(processes(), loadBundledPlugins());
        Future done = c.submit("faults.ok", {1}, impure());
        QCOMPARE(done.result(30s).toInt(), 1);
        std::string error;
        QVERIFY(!c.stackOf(done.key(), &error));
        QVERIFY2(error.find("not running") != std::string::npos, error.c_str());

        Future hung = c.submit("faults.hang", {}, impure());
        QTRY_VERIFY_WITH_TIMEOUT(hung.status() == FutureStatus::Processing, 30000);
        // Processing from the scheduler's view: the worker may not have started it yet.
        std::optional<std::string> stack;
        QTRY_VERIFY2_WITH_TIMEOUT(
            (stack = c.stackOf(hung.key(), &error)).has_value(), error.c_str(), 30000);
        QVERIFY2(stack->find("hang") != std::string::npos, stack->c_str());
        QVERIFY2(stack->find("TID ") == 0, stack->c_str()); // one thread: the task's
        qInfo("%s", stack->c_str());

        QVERIFY(!c.stackOf("no-such-key", &error));
        QVERIFY2(error.find("no task with key") != std::string::npos, error.c_str());
    }

    void test_timeoutKeepsTheStack()
    {
        Client c(processes(), loadBundledPlugins());
        SubmitOptions o = impure();
        o.timeout = 300ms;
        Future hung = c.submit("faults.hang", {}, o);
        QTRY_VERIFY_WITH_TIMEOUT(hung.done(), 60000);
        const std::optional<TaskError> e = hung.error();
        QVERIFY(e);
        QCOMPARE(e->type, std::string("TimedOut"));
        QVERIFY2(e->traceback.find("just before the kill") != std::string::npos,
                 e->traceback.c_str());
        QVERIFY2(e->traceback.find("hang") != std::string::npos, e->traceback.c_str());
    }

    void test_threadWorkersSayWhy()
    {
        ClusterOptions o;
        o.workers = 1;
        Client c(o, loadBundledPlugins());
        Future slow = c.submit("bench.sleep_ms", {5000}, impure());
        QTRY_VERIFY_WITH_TIMEOUT(slow.status() == FutureStatus::Processing, 30000);
        std::string error;
        QVERIFY(!c.stackOf(slow.key(), &error));
        QVERIFY2(error.find("not a local process") != std::string::npos, error.c_str());
        slow.cancel();
    }
};

QTEST_MAIN(TestTaskStack)
#include "tst_taskstack.moc"
