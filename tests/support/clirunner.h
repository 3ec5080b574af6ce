// Runs taskbench-cli (or any program) as a child process for the end-to-end tests and captures
// its exit code, stdout and stderr. The CLI gets the build tree's plugins and an environment
// without the variables that would make a test depend on the user's shell (plugin path, worker
// token). Every run has a timeout, so a hung child fails the test instead of hanging it.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QtTest>

namespace testsupport {

struct ProcessRun
{
    int exitCode = -1;
    QProcess::ExitStatus exitStatus = QProcess::CrashExit;
    QString out;
    QString err;
    QString failure; ///< why the run itself failed (did not start, timed out, crashed)

    bool ok() const { return failure.isEmpty(); }
    QStringList lines() const { return out.split('\n', Qt::SkipEmptyParts); }
    /// Every stdout line parsed as a JSON object (an invalid line yields an empty object).
    QList<QJsonObject> objects() const;
    /// The last stdout line as a JSON object (empty without output).
    QJsonObject lastObject() const;
};

using CliRun = ProcessRun;

struct RunOptions
{
    QByteArray input;         ///< written to stdin, which is then closed
    QString workingDirectory; ///< empty: the test's own
    int timeoutMs = 60000;
    QStringList unsetEnvironment; ///< also removed from the child's environment
};

/// The system environment without TASKBENCH_PLUGIN_PATH and TASKBENCH_WORKER_TOKEN.
QProcessEnvironment cleanEnvironment();
/// build/bin/<name>, e.g. binPath("taskbench-worker").
QString binPath(const QString &name);
QString cliPath();
/// {"--plugins", <build plugins>} + args.
QStringList withPlugins(const QStringList &args);

/// Runs a program to completion; false (with run.failure) if it did not start, hung or crashed.
bool runProgram(const QString &program,
                const QStringList &args,
                const RunOptions &options,
                ProcessRun &run);
/// Runs taskbench-cli with the build's plugins and a clean environment.
bool runCli(const QStringList &args, const RunOptions &options, ProcessRun &run);
bool runCli(const QStringList &args, const QByteArray &input, ProcessRun &run);
bool runCli(const QStringList &args, ProcessRun &run);

/// The tutorial's retries step as CLI arguments: the random flaky_inc mapped over 0..9 with
/// 100 retries (which make success certain), reduced by tutorial.sum to 55.
QStringList tutorialFlakyMapArgs();

/// "exit N", stdout and stderr, for a failed check's message.
QString describe(const ProcessRun &run);

} // namespace testsupport

/// Declares `run` and runs the CLI into it with `runner` (testsupport::runCli or a suite's
/// own wrapper with the same signature).
#define RUN_CLI_WITH(runner, run, ...)                                                             \
    testsupport::CliRun run;                                                                       \
    QVERIFY2(runner(__VA_ARGS__, run), qPrintable(run.failure))

#define RUN_CLI(run, ...) RUN_CLI_WITH(testsupport::runCli, run, __VA_ARGS__)

#define EXPECT_EXIT(run, code)                                                                     \
    QVERIFY2((run).exitCode == (code), qPrintable(testsupport::describe(run)))
