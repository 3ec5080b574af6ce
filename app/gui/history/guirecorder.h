// Records the GUI's cluster sessions into the history database: a Recorder is attached to
// each cluster the EngineBridge starts (created off the GUI thread), every future the GUI
// submits is tracked, and when the cluster stops the recorder finishes on a background
// thread (keeping the client alive until it has), so the window never waits for the disk.
//
// Settings (QSettings): history/record (default true), history/database (default
// HistoryStore::defaultPath()), history/keepSessions (default 100, 0 = all) and
// history/keepDays (default 0 = no limit), applied when a cluster starts.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>

#include "enginebridge.h"

#include "taskbench/history/recorder.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace taskbench {
class Client;
} // namespace taskbench

namespace taskbench::gui {

class GuiRecorder : public QObject
{
    Q_OBJECT
public:
    explicit GuiRecorder(EngineBridge *bridge, QObject *parent = nullptr);
    ~GuiRecorder() override; ///< finishes the current session (short wait at exit)

    static bool recordingEnabled();
    static void setRecordingEnabled(bool on);
    static QString databasePath();
    static int keepSessions();
    static int keepDays();
    static void setRetention(int sessions, int days);

    /// The session being recorded (0: none).
    std::int64_t sessionId() const;
    /// Calls `done` on the GUI thread (while `context` lives) once everything recorded so
    /// far is in the database (at once when nothing is recorded). Never blocks.
    void whenWritten(QObject *context, std::function<void()> done);
    /// The current session's recorder figures (its backlog included); none without one.
    std::optional<history::RecorderStats> stats() const;

signals:
    void sessionStarted(qint64 id);
    /// The session's last rows are on disk (the panel refreshes).
    void sessionFinished(qint64 id);
    void message(const QString &text);

private:
    void startRecording();
    void stopRecording();

    struct Active;
    QPointer<EngineBridge> m_bridge; ///< may go first at exit (see the destructor)
    std::shared_ptr<Active> m_active;
    /// Opening and closing sessions, off the GUI thread; waited for on destruction, so no
    /// database work outlives the recorder (or the application, whose exit tears down
    /// Qt SQL).
    QThreadPool m_pool;
    std::uint64_t m_generation = 0;
};

} // namespace taskbench::gui
