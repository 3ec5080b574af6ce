// GuiRecorder: one history session per GUI cluster (see guirecorder.h).
#include "guirecorder.h"

#include "enginebridge.h"

#include "taskbench/history/crashmarker.h"
#include "taskbench/history/historystore.h"
#include "taskbench/history/recorder.h"

#include <QCoreApplication>
#include <QPointer>
#include <QSettings>
#include <QThreadPool>

#include <mutex>

namespace taskbench::gui {

/// One recorded cluster. The recorder is set from the pool thread that created it and read
/// on the GUI thread, hence the mutex.
struct GuiRecorder::Active
{
    std::shared_ptr<Client> client; ///< kept alive until the recorder finished
    mutable std::mutex mutex;
    std::unique_ptr<history::Recorder> recorder;

    ~Active()
    {
        recorder.reset(); // finishes before the client may go
    }
    void track(const std::vector<Future> &futures)
    {
        std::lock_guard lock(mutex);
        if (recorder)
            recorder->track(futures);
    }
    std::int64_t sessionId() const
    {
        std::lock_guard lock(mutex);
        return recorder ? recorder->sessionId() : 0;
    }
    std::optional<history::RecorderStats> stats() const
    {
        std::lock_guard lock(mutex);
        if (!recorder)
            return std::nullopt;
        return recorder->stats();
    }
    /// Blocks until written. The recorder, once set, lives as long as this Active.
    void flush()
    {
        history::Recorder *r = nullptr;
        {
            std::lock_guard lock(mutex);
            r = recorder.get();
        }
        if (r)
            r->flush();
    }
};

GuiRecorder::GuiRecorder(EngineBridge *bridge, QObject *parent)
    : QObject(parent)
    , m_bridge(bridge)
{
    connect(bridge, &EngineBridge::clusterStarted, this, &GuiRecorder::startRecording);
    connect(bridge, &EngineBridge::clusterStopped, this, &GuiRecorder::stopRecording);
    if (bridge->isRunning())
        startRecording();
}

GuiRecorder::~GuiRecorder()
{
    if (m_bridge)
        m_bridge->setSubmissionTap({}); // the tap holds the session
    m_active.reset();
    m_pool.waitForDone();
}

bool GuiRecorder::recordingEnabled()
{
    return QSettings().value(QStringLiteral("history/record"), true).toBool();
}

void GuiRecorder::setRecordingEnabled(bool on)
{
    QSettings().setValue(QStringLiteral("history/record"), on);
}

QString GuiRecorder::databasePath()
{
    return QSettings()
        .value(QStringLiteral("history/database"),
               QString::fromStdString(history::HistoryStore::defaultPath()))
        .toString();
}

int GuiRecorder::keepSessions()
{
    return QSettings().value(QStringLiteral("history/keepSessions"), 100).toInt();
}

int GuiRecorder::keepDays()
{
    return QSettings().value(QStringLiteral("history/keepDays"), 0).toInt();
}

void GuiRecorder::setRetention(int sessions, int days)
{
    QSettings settings;
    settings.setValue(QStringLiteral("history/keepSessions"), std::max(0, sessions));
    settings.setValue(QStringLiteral("history/keepDays"), std::max(0, days));
}

std::int64_t GuiRecorder::sessionId() const
{
    return m_active ? m_active->sessionId() : 0;
}

std::optional<history::RecorderStats> GuiRecorder::stats() const
{
    return m_active ? m_active->stats() : std::nullopt;
}

void GuiRecorder::whenWritten(QObject *context, std::function<void()> done)
{
    QPointer<QObject> ctx(context);
    m_pool.start([active = m_active, ctx, done = std::move(done)]() mutable {
        if (active)
            active->flush();
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [ctx, done = std::move(done)] {
                if (ctx)
                    done();
            },
            Qt::QueuedConnection);
    });
}

void GuiRecorder::startRecording()
{
    stopRecording();
    std::shared_ptr<Client> client = m_bridge->client();
    if (!client || !recordingEnabled())
        return;
    auto active = std::make_shared<Active>();
    active->client = client;
    m_active = active;
    // Every future the GUI submits is tracked on the submission thread, where the bridge
    // already holds them: a 100,000-future map is not copied on the GUI thread.
    m_bridge->setSubmissionTap(
        [active](const std::vector<Future> &futures) { active->track(futures); });
    const std::uint64_t generation = ++m_generation;
    history::RecorderOptions options;
    options.databasePath = databasePath().toStdString();
    options.session.app = "taskbench";
    options.session.title = tr("Workbench session").toStdString();
    options.session.workers = client->options().workers;
    options.session.threadsPerWorker = client->options().threadsPerWorker;
    options.session.processes = client->options().processes;
    const int sessions = keepSessions();
    const int days = keepDays();
    QPointer<GuiRecorder> self(this);
    // Opening the database and asking the cluster for its workers are not GUI-thread work.
    m_pool.start([self, active, options, sessions, days, generation] {
        QString problem;
        {
            // The first open marks sessions that died as interrupted; its notices say so.
            history::HistoryStore store;
            if (store.open(options.databasePath) && (sessions > 0 || days > 0))
                store.applyRetention(sessions, days);
            for (const std::string &n : store.notices())
                problem += QString::fromStdString(n) + '\n';
        }
        auto recorder = std::make_unique<history::Recorder>(*active->client, options);
        for (const std::string &n : recorder->notices())
            problem += QString::fromStdString(n) + '\n';
        if (!recorder->ok())
            problem += tr("History: %1; this session is not recorded.")
                           .arg(QString::fromStdString(recorder->errorString()));
        const qint64 id = recorder->ok() ? recorder->sessionId() : 0;
        if (recorder->ok()) {
            // A crash (thread workers) leaves its signal's name for the next start's notice.
            history::installCrashMarker(options.databasePath);
            std::lock_guard lock(active->mutex);
            active->recorder = std::move(recorder);
        }
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, id, problem, generation] {
                if (!self || generation != self->m_generation)
                    return;
                if (!problem.isEmpty())
                    emit self->message(problem.trimmed());
                if (id > 0)
                    emit self->sessionStarted(id);
            },
            Qt::QueuedConnection);
    });
}

void GuiRecorder::stopRecording()
{
    if (!m_active)
        return;
    m_bridge->setSubmissionTap({});
    ++m_generation;
    std::shared_ptr<Active> active = std::move(m_active);
    QPointer<GuiRecorder> self(this);
    m_pool.start([active = std::move(active), self]() mutable {
        const qint64 id = active->sessionId();
        active.reset(); // final flush, session marked finished, then the client may go
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, id] {
                if (self && id > 0)
                    emit self->sessionFinished(id);
            },
            Qt::QueuedConnection);
    });
}

} // namespace taskbench::gui
