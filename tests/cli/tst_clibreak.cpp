// `taskbench-cli run GRAPH --break ...` end to end: refused with a clear message when
// standard input is not a terminal; in a terminal (a pseudo-terminal made by util-linux's
// `script`) it stops at the held task, shows its inputs' values, and steps, continues or
// aborts as answered; an unknown target is refused.
#include "clirunner.h"

#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>

using namespace testsupport;

namespace {

constexpr const char *kGraph = R"({"tasks": {
    "x": {"function": "bench.inc", "args": [1]},
    "y": {"function": "bench.inc", "args": [2]},
    "z": {"function": "bench.add", "args": [{"$ref": "x"}, {"$ref": "y"}]}},
  "outputs": ["z"]})";

QString shellQuote(const QString &s)
{
    QString q = s;
    q.replace('\'', "'\\''");
    return '\'' + q + '\'';
}

} // namespace

class TestCliBreak : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_graph = m_dir.filePath("graph.json");
        QFile f(m_graph);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(kGraph);
    }

    void test_refusedWithoutTerminal()
    {
        RUN_CLI(run, withPlugins({"--no-history", "run", m_graph, "--break", "bench.add"}), "");
        EXPECT_EXIT(run, 2);
        QVERIFY2(run.err.contains("--break") && run.err.contains("needs a terminal"),
                 qPrintable(describe(run)));
    }

    void test_unknownTargetRefused()
    {
        ProcessRun run;
        QVERIFY(inTerminal({"--break", "no.such"}, "", run));
        QVERIFY2(run.out.contains("--break no.such: not a loaded function"),
                 qPrintable(describe(run)));
        QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
    }

    void test_stopsAtHeldTaskShowsInputsAndSteps()
    {
        ProcessRun run;
        QVERIFY(inTerminal({"--break", "bench.add"}, "inspect\nstep\n", run));
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        // The held task with its inputs' values (2 and 3), then the result after the step.
        QVERIFY2(run.out.contains("held at a breakpoint:"), qPrintable(run.out));
        QVERIFY2(run.out.contains("bench.add(2, 3)"), qPrintable(run.out));
        QVERIFY2(run.out.contains("1 task held:"), qPrintable(run.out));
        QVERIFY2(run.out.contains("released z-"), qPrintable(run.out));
        QVERIFY2(run.out.contains("finished  int  5"), qPrintable(run.out));
    }

    void test_breakOnTaskNameThenContinue()
    {
        ProcessRun run;
        QVERIFY(inTerminal({"--break", "x"}, "continue\n", run));
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        QVERIFY2(run.out.contains("bench.inc(1)"), qPrintable(run.out));
        QVERIFY2(run.out.contains("continuing: released 1 held"), qPrintable(run.out));
        QVERIFY2(run.out.contains("finished  int  5"), qPrintable(run.out));
    }

    void test_abortCancels()
    {
        ProcessRun run;
        QVERIFY(inTerminal({"--break", "bench.add"}, "abort\n", run));
        QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));
        QVERIFY2(run.out.contains("aborted: cancelled"), qPrintable(run.out));
        QVERIFY2(run.out.contains("cancelled"), qPrintable(run.out));
    }

private:
    /// The CLI on a pseudo-terminal (`script -qec`), answers written to it.
    bool inTerminal(const QStringList &extra, const QByteArray &answers, ProcessRun &run)
    {
        const QString script = QStandardPaths::findExecutable("script");
        if (script.isEmpty()) {
            run.failure = "util-linux's script is not installed";
            return false;
        }
        QStringList words{shellQuote(cliPath())};
        for (const QString &a : withPlugins({"--no-history", "run", m_graph}) + extra)
            words << shellQuote(a);
        RunOptions o;
        o.input = answers;
        o.timeoutMs = 60000;
        return runProgram(script, {"-qec", words.join(' '), "/dev/null"}, o, run);
    }

    QTemporaryDir m_dir;
    QString m_graph;
};

QTEST_GUILESS_MAIN(TestCliBreak)
#include "tst_clibreak.moc"
