#include "replayactions.h"

#include "futuresmodel.h"
#include "futurestable.h"
#include "history/guirecorder.h"

#include <QAction>
#include <QClipboard>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QWidget>

namespace taskbench::gui {

namespace {

QString cliPath()
{
    // The CLI installed (or built) next to the workbench, else the one on PATH.
    const QString beside
        = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("taskbench-cli"));
    return QFileInfo(beside).isExecutable() ? beside : QStringLiteral("taskbench-cli");
}

QString shellQuoted(const QString &arg)
{
    static const QRegularExpression safe(QStringLiteral("^[A-Za-z0-9_./:=@%+,-]+$"));
    if (safe.match(arg).hasMatch())
        return arg;
    QString quoted = arg;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

} // namespace

ReplayActions::ReplayActions(FuturesModel *futures,
                             FuturesTable *table,
                             GuiRecorder *recorder,
                             QWidget *window)
    : QObject(window)
    , m_futures(futures)
    , m_table(table)
    , m_recorder(recorder)
{
    m_copy = new QAction(tr("Copy replay command"), window);
    m_copy->setObjectName(QStringLiteral("copyReplayCommand"));
    m_copy->setStatusTip(tr("Copy the taskbench-cli command that runs the selected recorded "
                            "task once in the foreground (add --gdb to debug it)"));
    m_terminal = new QAction(tr("Replay in terminal"), window);
    m_terminal->setObjectName(QStringLiteral("replayInTerminal"));
    m_terminal->setStatusTip(tr("Run the selected recorded task once in a terminal, on its "
                                "recorded plugin file and arguments"));
    for (QAction *a : {m_copy, m_terminal}) {
        a->setToolTip(a->statusTip());
        window->addAction(a);
    }
    connect(m_copy, &QAction::triggered, this, [this] {
        const QStringList args = selectedReplay();
        if (args.isEmpty())
            return;
        const QString line = command(args);
        QGuiApplication::clipboard()->setText(line);
        emit message(tr("Copied: %1").arg(line));
    });
    connect(m_terminal, &QAction::triggered, this, [this] {
        const QStringList args = selectedReplay();
        if (args.isEmpty())
            return;
        const QString line = command(args);
        QStringList term = terminal();
        if (term.isEmpty()) {
            QGuiApplication::clipboard()->setText(line);
            emit message(tr("No terminal emulator is installed (Debian: xterm); the command "
                            "was copied instead: %1")
                             .arg(line));
            return;
        }
        // The terminal stays open on the outcome until Enter.
        const QString program = term.takeFirst();
        term << QStringLiteral("sh") << QStringLiteral("-c")
             << line
                    + QStringLiteral("; echo; echo \"exit status $?; press Enter to close\"; "
                                     "read _");
        if (QProcess::startDetached(program, term))
            emit message(tr("Replaying in %1: %2").arg(QFileInfo(program).fileName(), line));
        else
            emit message(tr("Cannot start %1").arg(program));
    });
}

QString ReplayActions::command(const QStringList &arguments)
{
    QStringList quoted;
    for (const QString &a : arguments)
        quoted << shellQuoted(a);
    return quoted.join(QLatin1Char(' '));
}

QStringList ReplayActions::replayArguments(const QString &key, qint64 session, const QString &db)
{
    return {cliPath(),
            QStringLiteral("replay"),
            key,
            QStringLiteral("--session"),
            QString::number(session),
            QStringLiteral("--db"),
            db};
}

QStringList ReplayActions::terminal()
{
    const std::pair<const char *, const char *> known[] = {
        {"x-terminal-emulator", "-e"},
        {"xterm", "-e"},
        {"konsole", "-e"},
        {"gnome-terminal", "--"},
    };
    for (const auto &[name, flag] : known)
        if (const QString path = QStandardPaths::findExecutable(QString::fromLatin1(name));
            !path.isEmpty())
            return {path, QString::fromLatin1(flag)};
    return {};
}

QStringList ReplayActions::selectedReplay()
{
    const std::vector<std::uint64_t> ids = m_table->selectedIds();
    const FutureRow *row = ids.size() == 1 ? m_futures->row(ids.front()) : nullptr;
    if (!row) {
        emit message(tr("Select one future to replay"));
        return {};
    }
    const qint64 session = m_recorder->sessionId();
    if (session <= 0) {
        emit message(tr("This session is not recorded (History: Record sessions): there is "
                        "nothing to replay from"));
        return {};
    }
    return replayArguments(row->key, session, GuiRecorder::databasePath());
}

} // namespace taskbench::gui
