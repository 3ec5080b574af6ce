// The default GUI bench runs, each in its own process (see guibenchruns.h).
#include "guibenchruns.h"

#include <QProcess>

#include <cstdio>

namespace taskbench::gui {

bool runGuiBenchInFreshProcesses(const QString &program, const QStringList &arguments)
{
    struct Run
    {
        const char *tasks;
        const char *workers;
    };
    static constexpr Run kRuns[]
        = {{"100000", "--threads"}, {"1000000", "--threads"}, {"100000", "--processes"}};
    bool ok = true;
    for (const Run &run : kRuns) {
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        child.setInputChannelMode(QProcess::ForwardedInputChannel);
        std::fflush(stdout); // the figures stay in order
        child.start(program,
                    QStringList(arguments)
                        << QStringLiteral("--bench-tasks") << QLatin1String(run.tasks)
                        << QLatin1String(run.workers));
        // A million tasks take seconds; a run that has not ended in 10 minutes hangs.
        const bool ended = child.waitForStarted(30000) && child.waitForFinished(600000);
        if (!ended) {
            std::fprintf(stderr,
                         "bench-gui: the run of %s tasks (%s) %s\n",
                         run.tasks,
                         run.workers,
                         qPrintable(child.errorString()));
            child.kill();
            child.waitForFinished(5000);
            return false;
        }
        if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0) {
            std::fprintf(stderr,
                         "bench-gui: the run of %s tasks (%s) failed (exit %d)\n",
                         run.tasks,
                         run.workers,
                         child.exitCode());
            ok = false;
        }
    }
    return ok;
}

} // namespace taskbench::gui
