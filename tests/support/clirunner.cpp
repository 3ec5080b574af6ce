// The child-process runner of clirunner.h: start, feed stdin, wait with a timeout, collect.
#include "clirunner.h"

#include <QJsonDocument>

namespace testsupport {

QList<QJsonObject> ProcessRun::objects() const
{
    QList<QJsonObject> list;
    for (const QString &line : lines())
        list.append(QJsonDocument::fromJson(line.toUtf8()).object());
    return list;
}

QJsonObject ProcessRun::lastObject() const
{
    const QStringList all = lines();
    return all.isEmpty() ? QJsonObject() : QJsonDocument::fromJson(all.last().toUtf8()).object();
}

QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("TASKBENCH_PLUGIN_PATH");
    env.remove("TASKBENCH_WORKER_TOKEN");
    return env;
}

QString binPath(const QString &name)
{
    return QStringLiteral(TASKBENCH_BIN_DIR "/") + name;
}

QString cliPath()
{
    return binPath(QStringLiteral("taskbench-cli"));
}

QStringList withPlugins(const QStringList &args)
{
    return QStringList{"--plugins", QStringLiteral(TASKBENCH_PLUGIN_DIR)} + args;
}

bool runProgram(const QString &program,
                const QStringList &args,
                const RunOptions &options,
                ProcessRun &run)
{
    QProcess p;
    QProcessEnvironment env = cleanEnvironment();
    for (const QString &name : options.unsetEnvironment)
        env.remove(name);
    p.setProcessEnvironment(env);
    if (!options.workingDirectory.isEmpty())
        p.setWorkingDirectory(options.workingDirectory);
    p.start(program, args);
    if (!p.waitForStarted(10000)) {
        run.failure = program + " did not start: " + p.errorString();
        return false;
    }
    if (!options.input.isEmpty())
        p.write(options.input);
    p.closeWriteChannel();
    const bool finished = p.waitForFinished(options.timeoutMs);
    if (!finished) {
        p.kill();
        p.waitForFinished(5000);
    }
    run.out = QString::fromUtf8(p.readAllStandardOutput());
    run.err = QString::fromUtf8(p.readAllStandardError());
    run.exitCode = p.exitCode();
    run.exitStatus = p.exitStatus();
    const QString command = program.section('/', -1) + ' ' + args.join(' ');
    if (!finished) {
        run.failure = "timed out: " + command + "\nstderr: " + run.err;
        return false;
    }
    if (p.exitStatus() != QProcess::NormalExit) {
        run.failure = "crashed: " + command + "\nstderr: " + run.err;
        return false;
    }
    return true;
}

bool runCli(const QStringList &args, const RunOptions &options, ProcessRun &run)
{
    return runProgram(cliPath(), withPlugins(args), options, run);
}

bool runCli(const QStringList &args, const QByteArray &input, ProcessRun &run)
{
    RunOptions options;
    options.input = input;
    return runCli(args, options, run);
}

bool runCli(const QStringList &args, ProcessRun &run)
{
    return runCli(args, RunOptions{}, run);
}

QStringList tutorialFlakyMapArgs()
{
    return {"map",
            "tutorial.flaky_inc",
            "--range",
            "0:10",
            "--retries",
            "100",
            "--reduce",
            "tutorial.sum"};
}

QString describe(const ProcessRun &run)
{
    return QStringLiteral("exit %1\n--- stdout:\n%2--- stderr:\n%3")
        .arg(run.exitCode)
        .arg(run.out, run.err);
}

} // namespace testsupport
