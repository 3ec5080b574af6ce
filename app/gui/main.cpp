// taskbench: the workbench's entry point. Parses the command line, starts the main window
// with its local cluster, and runs the optional scripted modes (demo, screenshot, GUI
// benchmark) that work on the offscreen platform.
#include "demo.h"
#include "enginebridge.h"
#include "guibench.h"
#include "guibenchruns.h"
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

/// Every option of the command line, defined once for the display-free answer to --help and
/// --version and for the real parse.
struct Options
{
    const QCommandLineOption plugins{QStringLiteral("plugins"),
                                     QStringLiteral("Also scan plugin folder DIR (repeatable)."),
                                     QStringLiteral("DIR")};
    const QCommandLineOption workers{QStringLiteral("workers"),
                                     QStringLiteral("Number of workers (0: one per core)."),
                                     QStringLiteral("N")};
    const QCommandLineOption threads{
        QStringLiteral("threads"),
        QStringLiteral("Use thread workers: no isolation, a crashing task ends the app.")};
    const QCommandLineOption processes{QStringLiteral("processes"),
                                       QStringLiteral("Use process workers (the default).")};
    const QCommandLineOption tpw{QStringLiteral("threads-per-worker"),
                                 QStringLiteral("Task slots per worker."),
                                 QStringLiteral("N")};
    const QCommandLineOption screenshot{
        QStringLiteral("screenshot"),
        QStringLiteral("Save a PNG of the main window to FILE and exit."),
        QStringLiteral("FILE")};
    const QCommandLineOption after{
        QStringLiteral("after"),
        QStringLiteral("Screenshot after SECONDS (with --demo: at most SECONDS, default 30)."),
        QStringLiteral("SECONDS")};
    const QCommandLineOption demo{
        QStringLiteral("demo"),
        QStringLiteral("Replay the futures tutorial with the bench (or tutorial) plugin.")};
    const QCommandLineOption demoPlugin{
        QStringLiteral("demo-plugin"),
        QStringLiteral("Plugin the demo uses: bench (default) or tutorial."),
        QStringLiteral("NAME")};
    const QCommandLineOption bench{
        QStringLiteral("bench-gui"),
        QStringLiteral("Measure GUI stalls, time to show every row, memory and paint times "
                       "during maps of 100,000 and 1,000,000 tasks (threads) and 100,000 "
                       "(processes), then the task graph and task stream figures; print JSON "
                       "lines and exit.")};
    const QCommandLineOption benchTasks{
        QStringLiteral("bench-tasks"),
        QStringLiteral("With --bench-gui: one map of N tasks (on threads, or --processes) "
                       "instead of the runs and the views' figures."),
        QStringLiteral("N")};
    const QCommandLineOption benchViews{
        QStringLiteral("bench-views"),
        QStringLiteral("With --bench-gui: only the task graph and task stream figures.")};
    const QCommandLineOption size{QStringLiteral("size"),
                                  QStringLiteral("Window size WxH (default 1280x800)."),
                                  QStringLiteral("WxH")};
    const QCommandLineOption logLevel{QStringLiteral("log-level"),
                                      QStringLiteral("trace, debug, info, warn, error."),
                                      QStringLiteral("LEVEL")};
    const QCommandLineOption dark{QStringLiteral("dark"),
                                  QStringLiteral("Use a dark palette (to check the dark theme).")};

    void addTo(QCommandLineParser &parser) const
    {
        parser.setApplicationDescription(
            QStringLiteral("Taskbench: a desktop workbench for futures-style parallel computing."));
        parser.addHelpOption();
        parser.addVersionOption();
        parser.addOptions({dark,
                           plugins,
                           workers,
                           threads,
                           processes,
                           tpw,
                           screenshot,
                           after,
                           demo,
                           demoPlugin,
                           bench,
                           benchTasks,
                           benchViews,
                           size,
                           logLevel});
    }
};

/// True when the arguments ask only for the help or the version text.
bool asksHelpOrVersion(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "--help" || a == "-h" || a == "-?" || a == "--help-all" || a == "--version"
            || a == "-v")
            return true;
    }
    return false;
}

void setIdentity()
{
    QCoreApplication::setOrganizationName(QStringLiteral("Taskbench"));
    QCoreApplication::setApplicationName(QStringLiteral("Taskbench"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TASKBENCH_VERSION));
}

} // namespace

int main(int argc, char **argv)
{
    // --help and --version print and exit before QApplication loads a platform plugin, which
    // aborts without a display (the first thing a user over ssh types).
    if (asksHelpOrVersion(argc, argv)) {
        QCoreApplication core(argc, argv);
        setIdentity();
        const Options o;
        QCommandLineParser parser;
        o.addTo(parser);
        parser.process(core); // prints and exits 0 (or 1 on a bad option)
        return 0;
    }
    QApplication app(argc, argv);
    setIdentity();
    QApplication::setDesktopFileName(QStringLiteral("taskbench"));
    EnglishPlurals plurals;
    QApplication::installTranslator(&plurals);

    const Options o;
    QCommandLineParser parser;
    o.addTo(parser);
    parser.process(app);

    if (parser.isSet(o.dark)) {
        QApplication::setStyle(QStringLiteral("Fusion"));
        QApplication::setPalette(darkPalette());
    }
    if (parser.isSet(o.logLevel) && !log::setLevel(parser.value(o.logLevel).toStdString()))
        std::fprintf(
            stderr, "taskbench: unknown log level %s\n", qPrintable(parser.value(o.logLevel)));

    if (parser.isSet(o.benchTasks)) {
        bool isNumber = false;
        const int n = parser.value(o.benchTasks).toInt(&isNumber);
        if (!isNumber || n <= 0) {
            std::fprintf(stderr,
                         "taskbench: --bench-tasks wants a positive number of tasks, not '%s'\n",
                         qPrintable(parser.value(o.benchTasks)));
            return 2;
        }
    }
    if (parser.isSet(o.bench) && parser.isSet(o.benchViews))
        return inspect::runGuiBenchmarks() == 0 ? 0 : 1;
    // The default bench runs each map in a fresh process of its own, then the inspect views'.
    if (parser.isSet(o.bench) && !parser.isSet(o.benchTasks)) {
        QStringList arguments = QCoreApplication::arguments().mid(1);
        arguments.removeAll(QStringLiteral("--threads")); // each run picks its worker kind
        arguments.removeAll(QStringLiteral("--processes"));
        const bool ok
            = runGuiBenchInFreshProcesses(QCoreApplication::applicationFilePath(), arguments);
        const int rc = inspect::runGuiBenchmarks();
        return ok && rc == 0 ? 0 : 1;
    }

    // Scripted runs are reproducible: they neither read nor write the saved layout.
    const bool scripted
        = parser.isSet(o.screenshot) || parser.isSet(o.demo) || parser.isSet(o.bench);
    MainWindow window;
    ClusterOptions options = scripted ? ClusterOptions{} : MainWindow::savedClusterOptions();
    // A demo or screenshot shows what a fresh start runs (process workers); the GUI bench
    // picks the worker kind of each of its runs itself.
    if (scripted && !parser.isSet(o.bench))
        options.processes = true;
    QStringList folders = scripted ? QStringList() : MainWindow::savedPluginFolders();
    for (const QString &dir : parser.values(o.plugins))
        if (!folders.contains(QDir(dir).absolutePath()))
            folders << QDir(dir).absolutePath();
    if (parser.isSet(o.workers))
        options.workers = parser.value(o.workers).toInt();
    if (parser.isSet(o.tpw))
        options.threadsPerWorker = std::max(1, parser.value(o.tpw).toInt());
    if (parser.isSet(o.threads))
        options.processes = false;
    if (parser.isSet(o.processes))
        options.processes = true;
    window.bridge()->catalog()->setExtraFolders(folders);
    if (!scripted) {
        window.restoreSettings();
        window.setProperty("saveOnClose", true);
    }
    if (parser.isSet(o.size)) {
        const QStringList wh = parser.value(o.size).split(QLatin1Char('x'));
        if (wh.size() == 2)
            window.resize(wh[0].toInt(), wh[1].toInt());
    }
    window.show();
    window.startEngine(options);

    if (parser.isSet(o.bench)) {
        auto *bench = new GuiBench(
            &window, {parser.value(o.benchTasks).toInt(), options.processes}, &window);
        QObject::connect(
            bench, &GuiBench::finished, &app, [](bool ok) { QApplication::exit(ok ? 0 : 1); });
        QTimer::singleShot(200, bench, &GuiBench::start);
        return app.exec();
    }

    const QString screenshot = parser.value(o.screenshot);
    bool afterOk = false;
    const double after = parser.value(o.after).toDouble(&afterOk);
    if (parser.isSet(o.demo)) {
        QString plugin = parser.value(o.demoPlugin);
        if (plugin.isEmpty())
            plugin = window.bridge()->catalog()->function(QStringLiteral("bench.inc"))
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
