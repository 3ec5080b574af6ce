// taskbench: the workbench's entry point. Parses the command line, starts the main window
// with its local cluster, and runs the optional scripted modes (demo, screenshot, GUI
// benchmark) that work on the offscreen platform.
#include "demo.h"
#include "enginebridge.h"
#include "guibench.h"
#include "mainwindow.h"
#include "plurals.h"

#include "inspect/inspectbench.h"

#include "taskbench/logging.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPalette>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace taskbench;
using namespace taskbench::gui;

namespace {

bool saveScreenshot(MainWindow &window, const QString &path)
{
    const QPixmap pm = window.grab();
    const QFileInfo info(path);
    QDir().mkpath(info.absolutePath());
    if (!pm.save(path, "PNG")) {
        std::fprintf(stderr, "taskbench: could not write %s\n", qPrintable(path));
        return false;
    }
    std::printf(
        "screenshot: %s (%dx%d)\n", qPrintable(info.absoluteFilePath()), pm.width(), pm.height());
    std::fflush(stdout);
    return true;
}

/// A dark palette, to check the dark theme anywhere (also offscreen).
QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x26, 0x29, 0x2e), base(0x1d, 0x1f, 0x23), text(0xe6, 0xe8, 0xeb);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xd0));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x93, 0xa0));
    p.setColor(QPalette::Mid, QColor(0x55, 0x5a, 0x62));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x7a, 0x80, 0x88));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x7a, 0x80, 0x88));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x7a, 0x80, 0x88));
    return p;
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Taskbench"));
    QApplication::setApplicationName(QStringLiteral("Taskbench"));
    QApplication::setApplicationVersion(QStringLiteral(TASKBENCH_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("taskbench"));
    EnglishPlurals plurals;
    QApplication::installTranslator(&plurals);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Taskbench: a desktop workbench for futures-style parallel computing."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption pluginsOpt(QStringLiteral("plugins"),
                                        QStringLiteral("Also scan plugin folder DIR (repeatable)."),
                                        QStringLiteral("DIR"));
    const QCommandLineOption workersOpt(QStringLiteral("workers"),
                                        QStringLiteral("Number of workers (0: one per core)."),
                                        QStringLiteral("N"));
    const QCommandLineOption threadsOpt(
        QStringLiteral("threads"),
        QStringLiteral("Use thread workers: no isolation, a crashing task ends the app."));
    const QCommandLineOption processesOpt(QStringLiteral("processes"),
                                          QStringLiteral("Use process workers (the default)."));
    const QCommandLineOption tpwOpt(QStringLiteral("threads-per-worker"),
                                    QStringLiteral("Task slots per worker."),
                                    QStringLiteral("N"));
    const QCommandLineOption screenshotOpt(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the main window to FILE and exit."),
        QStringLiteral("FILE"));
    const QCommandLineOption afterOpt(
        QStringLiteral("after"),
        QStringLiteral("Screenshot after SECONDS (with --demo: at most SECONDS, default 30)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption demoOpt(
        QStringLiteral("demo"),
        QStringLiteral("Replay the futures tutorial with the bench (or tutorial) plugin."));
    const QCommandLineOption demoPluginOpt(
        QStringLiteral("demo-plugin"),
        QStringLiteral("Plugin the demo uses: bench (default) or tutorial."),
        QStringLiteral("NAME"));
    const QCommandLineOption benchOpt(
        QStringLiteral("bench-gui"),
        QStringLiteral("Measure GUI stalls, time to show every row, memory and paint times "
                       "during maps of 100,000 and 1,000,000 tasks (threads) and 100,000 "
                       "(processes), then the task graph and task stream figures; print JSON "
                       "lines and exit."));
    const QCommandLineOption benchTasksOpt(
        QStringLiteral("bench-tasks"),
        QStringLiteral("With --bench-gui: one map of N tasks on threads instead of the runs."),
        QStringLiteral("N"));
    const QCommandLineOption sizeOpt(QStringLiteral("size"),
                                     QStringLiteral("Window size WxH (default 1280x800)."),
                                     QStringLiteral("WxH"));
    const QCommandLineOption logLevelOpt(QStringLiteral("log-level"),
                                         QStringLiteral("trace, debug, info, warn, error."),
                                         QStringLiteral("LEVEL"));
    const QCommandLineOption darkOpt(
        QStringLiteral("dark"), QStringLiteral("Use a dark palette (to check the dark theme)."));
    parser.addOption(darkOpt);
    parser.addOptions({pluginsOpt,
                       workersOpt,
                       threadsOpt,
                       processesOpt,
                       tpwOpt,
                       screenshotOpt,
                       afterOpt,
                       demoOpt,
                       demoPluginOpt,
                       benchOpt,
                       benchTasksOpt,
                       sizeOpt,
                       logLevelOpt});
    parser.process(app);

    if (parser.isSet(darkOpt)) {
        QApplication::setStyle(QStringLiteral("Fusion"));
        QApplication::setPalette(darkPalette());
    }
    if (parser.isSet(logLevelOpt) && !log::setLevel(parser.value(logLevelOpt).toStdString()))
        std::fprintf(
            stderr, "taskbench: unknown log level %s\n", qPrintable(parser.value(logLevelOpt)));

    // Scripted runs are reproducible: they neither read nor write the saved layout.
    const bool scripted
        = parser.isSet(screenshotOpt) || parser.isSet(demoOpt) || parser.isSet(benchOpt);
    MainWindow window;
    ClusterOptions options = scripted ? ClusterOptions{} : MainWindow::savedClusterOptions();
    QStringList folders = scripted ? QStringList() : MainWindow::savedPluginFolders();
    for (const QString &dir : parser.values(pluginsOpt))
        if (!folders.contains(QDir(dir).absolutePath()))
            folders << QDir(dir).absolutePath();
    if (parser.isSet(workersOpt))
        options.workers = parser.value(workersOpt).toInt();
    if (parser.isSet(tpwOpt))
        options.threadsPerWorker = std::max(1, parser.value(tpwOpt).toInt());
    if (parser.isSet(threadsOpt))
        options.processes = false;
    if (parser.isSet(processesOpt))
        options.processes = true;
    window.bridge()->setExtraPluginFolders(folders);
    if (!scripted) {
        window.restoreSettings();
        window.setProperty("saveOnClose", true);
    }
    if (parser.isSet(sizeOpt)) {
        const QStringList wh = parser.value(sizeOpt).split(QLatin1Char('x'));
        if (wh.size() == 2)
            window.resize(wh[0].toInt(), wh[1].toInt());
    }
    window.show();
    window.startEngine(options);

    if (parser.isSet(benchOpt)) {
        auto *bench = new GuiBench(&window, parser.value(benchTasksOpt).toInt(), &window);
        // Then the inspect views' figures (their own windows and synthetic events).
        QObject::connect(bench, &GuiBench::finished, &app, [&window](bool ok) {
            QTimer::singleShot(0, &window, [ok] {
                const int rc = inspect::runGuiBenchmarks();
                QApplication::exit(ok && rc == 0 ? 0 : 1);
            });
        });
        QTimer::singleShot(200, bench, &GuiBench::start);
        return app.exec();
    }

    const QString screenshot = parser.value(screenshotOpt);
    bool afterOk = false;
    const double after = parser.value(afterOpt).toDouble(&afterOk);
    if (parser.isSet(demoOpt)) {
        QString plugin = parser.value(demoPluginOpt);
        if (plugin.isEmpty())
            plugin = window.bridge()->function(QStringLiteral("bench.inc"))
                         ? QStringLiteral("bench")
                         : QStringLiteral("tutorial");
        auto *demo = new Demo(&window, plugin, &window);
        if (!screenshot.isEmpty()) {
            // Shoot once the demo has settled and the last results have arrived, or when the
            // bound runs out, whichever comes first.
            const int boundMs = int((afterOk ? after : 30.0) * 1000);
            auto shot = std::make_shared<bool>(false);
            auto take = [&window, screenshot, shot] {
                if (*shot)
                    return;
                *shot = true;
                window.bridge()->flushNow();
                QApplication::exit(saveScreenshot(window, screenshot) ? 0 : 1);
            };
            QObject::connect(
                demo, &Demo::finished, &window, [take] { QTimer::singleShot(600, take); });
            QTimer::singleShot(boundMs, &window, take);
        }
        QTimer::singleShot(100, demo, &Demo::start);
    } else if (!screenshot.isEmpty()) {
        QTimer::singleShot(int((afterOk ? after : 1.0) * 1000), &window, [&window, screenshot] {
            window.bridge()->flushNow();
            QApplication::exit(saveScreenshot(window, screenshot) ? 0 : 1);
        });
    }
    return app.exec();
}
