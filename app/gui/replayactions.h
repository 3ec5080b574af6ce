// Replaying a recorded task from the workbench: "Copy replay command" puts
// `taskbench-cli replay KEY --session N --db PATH` for the selected future on the clipboard,
// and "Replay in terminal" runs it in a terminal emulator (x-terminal-emulator, else xterm,
// konsole or gnome-terminal), where the task runs once in the foreground on the recorded
// plugin file and arguments. Both act on the futures table's selection (an error selected in
// the Errors panel is selected there too) and need the session to be recorded.
#pragma once

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

class QAction;
class QWidget;

namespace taskbench::gui {

class FuturesModel;
class FuturesTable;
class GuiRecorder;

class ReplayActions : public QObject
{
    Q_OBJECT
public:
    ReplayActions(FuturesModel *futures,
                  FuturesTable *table,
                  GuiRecorder *recorder,
                  QWidget *window);

    QList<QAction *> actions() const { return {m_copy, m_terminal}; }

    /// The command line, each argument quoted for a POSIX shell where it needs to be.
    static QString command(const QStringList &arguments);
    /// taskbench-cli replay's arguments for a task of a recorded session.
    static QStringList replayArguments(const QString &key, qint64 session, const QString &db);
    /// The terminal emulator to run a command in, with the arguments before the command;
    /// empty when none is installed.
    static QStringList terminal();

signals:
    void message(const QString &text);

private:
    /// The selected future's replay arguments, or empty (with a message saying why).
    QStringList selectedReplay();

    FuturesModel *m_futures;
    FuturesTable *m_table;
    GuiRecorder *m_recorder;
    QAction *m_copy;
    QAction *m_terminal;
};

} // namespace taskbench::gui
