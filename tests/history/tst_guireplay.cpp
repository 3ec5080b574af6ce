// Replaying a recorded failure from the workbench: a bench.fail future, selected, "Copy
// replay command" puts `taskbench-cli replay KEY --session N --db PATH` on the clipboard,
// and that very command (once the recorder wrote the task) runs the call again in the
// foreground and fails the same way; without a terminal emulator, "Replay in terminal"
// copies the command and says so; with recording off, both say there is nothing to replay.
#include "guifixture.h"
#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "history/guirecorder.h"
#include "mainwindow.h"
#include "replayactions.h"

#include "taskbench/client.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QLabel>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

using namespace taskbench;
using namespace taskbench::gui;

namespace {
constexpr int kTimeoutMs = 30000;
const QString kMessage = QStringLiteral("replay me exactly");
} // namespace

class tst_GuiReplay : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
    std::uint64_t m_failed = 0;

    QString lastAction() const
    {
        for (QLabel *l : m_window->statusBar()->findChildren<QLabel *>())
            if (l->accessibleName() == QLatin1String("Last action"))
                return l->text();
        return {};
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("TaskbenchTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_guireplay"));
        QSettings settings;
        settings.clear();
        settings.setValue("history/database", m_dir.filePath("history.sqlite"));
        settings.setValue("history/record", true);
        settings.setValue("cache/enabled", false);
        m_window = std::make_unique<MainWindow>();
        EngineBridge *b = m_window->bridge();
        testsupport::useBundledPlugins(*b->catalog());
        ClusterOptions options;
        options.workers = 1;
        m_window->startEngine(options);
        QVERIFY(b->isRunning());
        // The recorder follows submissions once its session started.
        auto *recorder = m_window->findChild<GuiRecorder *>();
        QVERIFY(recorder);
        QTRY_VERIFY_WITH_TIMEOUT(recorder->sessionId() > 0, kTimeoutMs);
    }

    void cleanupTestCase() { m_window.reset(); }

    void test_copiedCommandReplaysTheFailure()
    {
        // Through the workbench's own submit path, which the recorder follows.
        EngineBridge *b = m_window->bridge();
        std::vector<std::uint64_t> ids;
        auto conn = connect(b,
                            &EngineBridge::submitted,
                            this,
                            [&](quint64, const std::vector<std::uint64_t> &got) { ids = got; });
        b->submit(QStringLiteral("bench.fail"), {Value(kMessage.toStdString())}, {});
        QTRY_COMPARE_WITH_TIMEOUT(ids.size(), std::size_t(1), kTimeoutMs);
        disconnect(conn);
        m_failed = ids.front();
        FuturesModel *model = m_window->futuresModel();
        QTRY_VERIFY_WITH_TIMEOUT(model->row(m_failed)
                                     && model->row(m_failed)->status == FutureStatus::Error,
                                 kTimeoutMs);
        m_window->futuresTable()->selectIds({m_failed});
        QApplication::clipboard()->clear();
        m_window->action(QStringLiteral("copyReplayCommand"))->trigger();
        const QString copied = QApplication::clipboard()->text();
        QVERIFY2(copied.contains(QLatin1String("taskbench-cli replay ")), qPrintable(copied));
        QVERIFY(copied.contains(model->row(m_failed)->key));
        QVERIFY(copied.contains(QLatin1String("--session ")));
        QVERIFY(lastAction().contains(copied));

        // The copied command runs the recorded call again (once the recorder wrote it).
        QString out;
        int code = -1;
        auto replayed = [&] {
            QProcess p;
            p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), copied}); // as a shell would
            if (!p.waitForFinished(20000))
                return false;
            out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
            code = p.exitCode();
            return out.contains(kMessage);
        };
        QTRY_VERIFY2_WITH_TIMEOUT(replayed(), qPrintable(out), kTimeoutMs);
        QVERIFY2(out.contains(QLatin1String("RuntimeError")), qPrintable(out));
        QVERIFY(code != 0);
    }

    void test_noTerminalCopiesInstead()
    {
        m_window->futuresTable()->selectIds({m_failed});
        const QByteArray path = qgetenv("PATH");
        qputenv("PATH", m_dir.path().toUtf8()); // no terminal emulator in there
        QVERIFY(ReplayActions::terminal().isEmpty());
        QApplication::clipboard()->clear();
        m_window->action(QStringLiteral("replayInTerminal"))->trigger();
        qputenv("PATH", path);
        QVERIFY(lastAction().contains(QLatin1String("No terminal emulator")));
        QVERIFY(QApplication::clipboard()->text().contains(QLatin1String("replay")));
    }

    void test_commandQuotesForTheShell()
    {
        const QString line = ReplayActions::command({QStringLiteral("/opt/tb/taskbench-cli"),
                                                     QStringLiteral("it's here"),
                                                     QStringLiteral("a b")});
        QCOMPARE(line, QStringLiteral("/opt/tb/taskbench-cli 'it'\\''s here' 'a b'"));
    }
};

QTEST_MAIN(tst_GuiReplay)
#include "tst_guireplay.moc"
