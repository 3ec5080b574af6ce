#include "enginebridge.h"

#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <QFileInfo>
#include <QPointer>

#include <algorithm>
#include <chrono>

namespace taskbench::gui {

using namespace std::chrono_literals;

namespace {

/// Results longer than this are not copied into the details view in full.
constexpr std::size_t kMaxResultJson = 1 << 20;

std::string joinArguments(const std::vector<Value> &args)
{
    std::string out;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i)
            out += ", ";
        out += repr(args[i], 40);
    }
    return out;
}

} // namespace

EngineBridge::EngineBridge(FuturesModel *futures, QObject *parent)
    : QObject(parent)
    , m_futures(futures)
{
    m_submitQueue.setMaxThreadCount(1);
    m_queryPool.setMaxThreadCount(2);
    // The futures table first: views fed by eventsApplied look rows up in it.
    connect(&m_pump, &EventPump::eventsApplied, m_futures, [this](const Event *b, const Event *e) {
        m_futures->applyEvents(b, e);
    });
    connect(&m_pump, &EventPump::eventsApplied, this, &EngineBridge::eventsApplied);
    connect(&m_pump, &EventPump::frameApplied, this, &EngineBridge::onFrame);
    connect(&m_catalog, &PluginCatalog::message, this, &EngineBridge::message);
}

EngineBridge::~EngineBridge()
{
    m_pump.detach();
    m_submitQueue.waitForDone();
    m_queryPool.waitForDone();
    m_handles.clear();
    // Slurm jobs first (their workers are this client's), then the client.
    if (m_slurm)
        m_slurm->close();
    m_slurm.reset();
    if (m_client)
        m_client->close();
    m_client.reset();
}

// ---------------------------------------------------------------------------------------
// Cluster

void EngineBridge::start(const ClusterOptions &options)
{
    ClusterSettings settings;
    settings.options = options;
    start(settings);
}

void EngineBridge::start(const ClusterSettings &settings)
{
    if (m_client)
        return;
    m_settings = settings;
    m_options = settings.clientOptions();
    m_options.pluginPaths.clear();
    for (const PluginRecord &p : m_catalog.plugins())
        m_options.pluginPaths.push_back(p.path);
    try {
        ClusterOptions options = m_options;
        if (m_optionsHook)
            m_optionsHook(options);
        m_client = std::make_shared<Client>(options, m_catalog.registry());
    } catch (const std::exception &e) {
        log::get("gui")->error("could not start the cluster: {}", e.what());
        emit message(tr("Could not start the cluster: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    m_listenAddress = QString::fromStdString(m_client->listenAddress());
    m_tokenFile = QString::fromStdString(m_client->tokenFile());
    if (!m_listenAddress.isEmpty())
        log::get("gui")->info("listening for workers on {} (token file {})",
                              m_listenAddress.toStdString(),
                              m_tokenFile.toStdString());
    // Every kind but TaskAdded: the views read new tasks from TasksAdded (one list per
    // submit, shared with the recorder), so the engine makes no event and no detail per task.
    m_pump.attach(*m_client, kAllEvents & ~eventBit(EventKind::TaskAdded));
    ++m_generation;
    countWorkers(); // those announced before the subscription existed
    if (m_settings.kind == ClusterKind::Slurm) {
        startSlurm();
    } else {
        // The engine's options, not ours: workers = 0 ("one per core") is resolved there.
        const ClusterOptions &started = m_client->options();
        log::get("gui")->info("cluster started: {} workers x {} threads ({})",
                              started.workers,
                              started.threadsPerWorker,
                              started.processes ? "processes" : "threads");
    }
    emit clusterStarted();
}

void EngineBridge::startSlurm()
{
    // The constructor only checks the options and starts the poll thread; scale and adapt
    // return at once (sbatch runs on that thread), so nothing here waits on Slurm.
    try {
        m_slurm = std::make_shared<SlurmCluster>(
            *m_client,
            m_settings.slurmOptions(m_listenAddress.toStdString(), m_tokenFile.toStdString()));
    } catch (const std::exception &e) {
        log::get("gui")->error("could not start the Slurm cluster: {}", e.what());
        emit message(tr("Could not start the Slurm cluster: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    const auto gen = m_generation;
    // Poll thread: post only. The bridge outlives the cluster (closed in restart/destructor
    // before the bridge goes), and late calls of an old cluster are dropped by generation.
    m_slurm->onJobsChanged([this, gen](const std::vector<SlurmJob> &jobs) {
        QMetaObject::invokeMethod(
            this,
            [this, gen, jobs] {
                if (gen == m_generation)
                    emit slurmJobsChanged(jobs);
            },
            Qt::QueuedConnection);
    });
    if (m_settings.adaptive) {
        m_slurm->adapt(m_settings.adaptMin, m_settings.adaptMax);
        log::get("gui")->info(
            "Slurm cluster: adaptive, {} to {} jobs", m_settings.adaptMin, m_settings.adaptMax);
    } else {
        m_slurm->scale(m_settings.jobs);
        log::get("gui")->info("Slurm cluster: {} jobs", m_settings.jobs);
    }
}

void EngineBridge::restart(const ClusterOptions &options)
{
    ClusterSettings settings;
    settings.options = options;
    restart(settings);
}

void EngineBridge::restart(const ClusterSettings &settings)
{
    m_pump.detach();
    m_handles.clear();
    m_resultsWaiting.clear();
    ++m_generation;
    auto oldSlurm = std::move(m_slurm);
    if (auto old = std::move(m_client)) {
        // close() waits for running tasks (and Slurm's for the jobs to end): never on the
        // GUI thread. The jobs go first, while their client still serves the workers.
        m_queryPool.start([old, oldSlurm]() mutable {
            if (oldSlurm)
                oldSlurm->close();
            oldSlurm.reset();
            old->close();
            old.reset();
        });
    }
    m_client.reset();
    m_slurm.reset();
    m_listenAddress.clear();
    m_tokenFile.clear();
    m_futures->clear();
    m_workers = 0;
    m_killableWorkers.clear();
    emit workersChanged(0);
    emit clusterStopped();
    start(settings);
}

// ---------------------------------------------------------------------------------------
// Events

void EngineBridge::flushNow()
{
    m_pump.flushNow();
}

void EngineBridge::onFrame(bool workersCameOrWent)
{
    requestResults(m_futures->takeResultRequests());
    if (workersCameOrWent)
        countWorkers();
    emit frameApplied();
}

void EngineBridge::countWorkers()
{
    if (!m_client)
        return;
    // Asked in the background; an answer about an earlier cluster is dropped.
    auto client = m_client;
    const auto gen = m_generation;
    m_queryPool.start([this, client, gen] {
        int alive = 0;
        QSet<int> killable;
        for (const WorkerInfo &w : client->workers()) {
            alive += w.alive;
            if (w.alive && w.pid != 0 && !w.remote)
                killable.insert(w.id);
        }
        QMetaObject::invokeMethod(
            this,
            [this, alive, killable = std::move(killable), gen] {
                if (gen != m_generation)
                    return;
                m_workers = alive;
                m_killableWorkers = killable;
                emit workersChanged(alive);
            },
            Qt::QueuedConnection);
    });
}

std::vector<Future> EngineBridge::handlesFor(const std::vector<std::uint64_t> &ids) const
{
    std::vector<Future> out;
    out.reserve(ids.size());
    for (std::uint64_t id : ids)
        if (const Future *f = m_handles.find(id))
            out.push_back(*f);
    return out;
}

void EngineBridge::requestResults(std::vector<std::uint64_t> ids)
{
    if (ids.empty() || !m_client)
        return;
    std::vector<Future> futures;
    futures.reserve(ids.size());
    for (std::uint64_t id : ids) {
        if (const Future *f = m_handles.find(id))
            futures.push_back(*f);
        else
            m_resultsWaiting.insert(id); // its submission has not come back yet
    }
    if (futures.empty())
        return;
    auto client = m_client;
    const auto gen = m_generation;
    m_queryPool.start([this, client, gen, futures = std::move(futures)] {
        std::vector<ResultSummary> out;
        out.reserve(futures.size());
        for (const Future &f : futures) {
            ResultSummary s;
            s.id = f.id();
            s.status = f.status();
            s.attempts = f.attempts();
            try {
                if (s.status == FutureStatus::Finished) {
                    const Value v = f.result(0ms);
                    s.type = v.typeName();
                    s.preview = repr(v, 60);
                } else if (s.status == FutureStatus::Error) {
                    s.error = f.error();
                    if (s.error && !s.error->fromDependency)
                        s.arguments = joinArguments(client->arguments(f));
                } else {
                    continue; // moved on meanwhile; a later frame asks again
                }
            } catch (const std::exception &e) {
                s.preview = e.what();
            }
            out.push_back(std::move(s));
        }
        QMetaObject::invokeMethod(
            this,
            [this, gen, out = std::move(out)] {
                if (gen == m_generation)
                    m_futures->applyResults(out);
            },
            Qt::QueuedConnection);
    });
}

// ---------------------------------------------------------------------------------------
// Work

void EngineBridge::setSubmissionTap(SubmissionTap tap)
{
    std::lock_guard lock(m_tapMutex);
    m_tap = std::move(tap);
}

void EngineBridge::tap(const std::vector<Future> &futures)
{
    std::lock_guard lock(m_tapMutex);
    if (m_tap && !futures.empty())
        m_tap(futures);
}

bool EngineBridge::submissionLanded(std::uint64_t generation,
                                    std::uint64_t request,
                                    const QString &error)
{
    --m_pendingSubmissions;
    if (generation != m_generation)
        return false; // made on a cluster that has gone since
    if (!error.isEmpty()) {
        emit submitFailed(request, error);
        return false;
    }
    return true;
}

std::vector<std::uint64_t> EngineBridge::takeHandles(std::vector<Future> futures)
{
    std::vector<std::uint64_t> ids;
    std::vector<std::uint64_t> ready;
    ids.reserve(futures.size());
    for (const Future &f : futures) {
        const std::uint64_t id = f.id();
        ids.push_back(id);
        if (!m_resultsWaiting.empty() && m_resultsWaiting.erase(id))
            ready.push_back(id);
    }
    m_handles.insert(std::move(futures));
    requestResults(std::move(ready)); // those that finished before their handle came
    return ids;
}

template <typename Work>
std::uint64_t EngineBridge::queueSubmission(Work work)
{
    // One submission (a call or a map) on the submission thread, so that a million-task map
    // never blocks the GUI; its futures come back to the GUI thread as submitted().
    const std::uint64_t request = m_nextRequest++;
    if (!m_client) {
        QMetaObject::invokeMethod(
            this,
            [this, request] { emit submitFailed(request, tr("The cluster is not running")); },
            Qt::QueuedConnection);
        return request;
    }
    ++m_pendingSubmissions;
    auto client = m_client;
    const auto gen = m_generation;
    m_submitQueue.start([this, client, gen, request, work = std::move(work)]() mutable {
        auto futures = std::make_shared<std::vector<Future>>();
        QString error;
        try {
            *futures = work(*client);
            tap(*futures);
        } catch (const std::exception &e) {
            error = QString::fromUtf8(e.what());
        }
        QMetaObject::invokeMethod(
            this,
            [this, gen, request, futures, error] {
                if (submissionLanded(gen, request, error))
                    emit submitted(request, takeHandles(std::move(*futures)));
            },
            Qt::QueuedConnection);
    });
    return request;
}

std::uint64_t
EngineBridge::submit(const QString &function, std::vector<Value> args, SubmitOptions opts)
{
    return queueSubmission([fn = function.toStdString(),
                            args = std::move(args),
                            opts = std::move(opts)](Client &client) mutable {
        return std::vector<Future>{client.submit(fn, std::move(args), std::move(opts))};
    });
}

std::uint64_t EngineBridge::mapArgs(const QString &function,
                                    std::vector<std::vector<Value>> argLists,
                                    SubmitOptions opts)
{
    return queueSubmission([fn = function.toStdString(),
                            argLists = std::move(argLists),
                            opts = std::move(opts)](Client &client) mutable {
        return client.mapArgs(fn, std::move(argLists), std::move(opts));
    });
}

namespace {

/// Replaces references to renamed keys anywhere inside a value.
bool renameRefs(Value &v, const std::unordered_map<std::string, std::string> &renamed)
{
    bool changed = false;
    if (v.isRef()) {
        auto it = renamed.find(v.toRef().key);
        if (it != renamed.end()) {
            v = Value::ref(it->second);
            changed = true;
        }
    } else if (v.isList()) {
        for (Value &item : v.toList())
            changed = renameRefs(item, renamed) || changed;
    } else if (v.isMap()) {
        for (auto &kv : v.toMap())
            changed = renameRefs(kv.second, renamed) || changed;
    }
    return changed;
}

} // namespace

std::uint64_t EngineBridge::editAndRetry(std::uint64_t id, std::vector<Value> args)
{
    const std::uint64_t request = m_nextRequest++;
    const Future *held = m_handles.find(id);
    if (!m_client || !held) {
        QMetaObject::invokeMethod(
            this,
            [this, request] { emit submitFailed(request, tr("That future is no longer held")); },
            Qt::QueuedConnection);
        return request;
    }
    // Ids grow with submission, and a task is submitted after its dependencies: ascending
    // ids are a topological order of the downstream tasks.
    std::vector<std::uint64_t> downIds = m_futures->downstreamOf({id});
    std::sort(downIds.begin(), downIds.end());
    std::vector<Future> downstream = handlesFor(downIds);
    Future failed = *held;
    ++m_pendingSubmissions;
    auto client = m_client;
    const auto gen = m_generation;
    m_submitQueue.start(
        [this, client, gen, request, failed, downstream, args = std::move(args)]() mutable {
            std::vector<Future> created;
            std::vector<std::uint64_t> replaced;
            QString error;
            try {
                std::unordered_map<std::string, std::string> renamed;
                SubmitOptions opts;
                opts.pure = false;
                Future fresh = client->submit(failed.function(), std::move(args), opts);
                renamed.emplace(failed.key(), fresh.key());
                replaced.push_back(failed.id());
                created.push_back(fresh);
                for (const Future &d : downstream) {
                    std::vector<Value> dargs = client->arguments(d);
                    bool changed = false;
                    for (Value &a : dargs)
                        changed = renameRefs(a, renamed) || changed;
                    if (!changed)
                        continue;
                    Future nd = client->submit(d.function(), std::move(dargs), opts);
                    renamed.emplace(d.key(), nd.key());
                    replaced.push_back(d.id());
                    created.push_back(nd);
                }
                tap(created);
            } catch (const std::exception &e) {
                error = QString::fromUtf8(e.what());
            }
            QMetaObject::invokeMethod(
                this,
                [this, gen, request, created, replaced, error] {
                    if (!submissionLanded(gen, request, error))
                        return;
                    const std::vector<std::uint64_t> ids = takeHandles(created);
                    release(replaced);
                    emit message(tr("Re-ran 1 task with new arguments and %n downstream task(s)",
                                    nullptr,
                                    int(created.size()) - 1));
                    emit submitted(request, ids);
                },
                Qt::QueuedConnection);
        });
    return request;
}

QString EngineBridge::keyOf(std::uint64_t id) const
{
    const Future *f = m_handles.find(id);
    return f ? QString::fromStdString(f->key()) : QString();
}

void EngineBridge::retry(const std::vector<std::uint64_t> &ids)
{
    onHeldFutures(ids, &Client::retry, QT_TR_N_NOOP("Retrying %n task(s)"));
}

void EngineBridge::cancel(const std::vector<std::uint64_t> &ids)
{
    onHeldFutures(ids, &Client::cancel, QT_TR_N_NOOP("Cancelling %n task(s)"));
}

void EngineBridge::onHeldFutures(const std::vector<std::uint64_t> &ids,
                                 void (Client::*command)(const std::vector<Future> &),
                                 const char *doing)
{
    if (!m_client)
        return;
    std::vector<Future> futures = handlesFor(ids);
    if (futures.empty())
        return;
    const int n = int(futures.size());
    // Client::retry and cancel wait for the scheduler's round: on the submit queue, in order
    // with the submissions before them, never on the GUI thread.
    onSubmitQueue([futures = std::move(futures), command](Client &c) { (c.*command)(futures); });
    emit message(tr(doing, nullptr, n));
}

void EngineBridge::onSubmitQueue(std::function<void(Client &)> command)
{
    m_submitQueue.start([this, client = m_client, command = std::move(command)] {
        QString error;
        try {
            command(*client);
        } catch (const std::exception &e) {
            error = QString::fromUtf8(e.what());
        }
        if (!error.isEmpty())
            QMetaObject::invokeMethod(
                this, [this, error] { emit message(error); }, Qt::QueuedConnection);
    });
}

void EngineBridge::release(const std::vector<std::uint64_t> &ids)
{
    std::vector<std::uint64_t> released;
    for (std::uint64_t id : ids)
        if (m_handles.erase(id))
            released.push_back(id);
    // Rows whose task others still need stay, shown as released; forgotten ones vanish with
    // their Forgotten event.
    m_futures->markReleased(released);
    if (!released.empty())
        emit message(tr("Released %n future(s)", nullptr, int(released.size())));
}

// ---------------------------------------------------------------------------------------
// Queries

void EngineBridge::fetchStory(std::uint64_t id,
                              QObject *context,
                              std::function<void(TaskStory)> done)
{
    QPointer<QObject> ctx(context);
    const Future *held = m_handles.find(id);
    if (!held || !m_client) {
        TaskStory s;
        s.id = id;
        QMetaObject::invokeMethod(
            this,
            [ctx, done, s] {
                if (ctx)
                    done(s);
            },
            Qt::QueuedConnection);
        return;
    }
    auto client = m_client;
    Future f = *held;
    m_queryPool.start([this, client, f, ctx, done] {
        TaskStory s;
        s.id = f.id();
        s.valid = true;
        s.key = f.key();
        s.function = f.function();
        s.status = f.status();
        s.type = f.typeName();
        s.attempts = f.attempts();
        try {
            s.transitions = client->story(f);
            s.logs = client->logs(f);
            // A held task's inputs are shown as the values it will run on (fetched if need be).
            s.argumentsResolved = s.status == FutureStatus::Held;
            for (const Value &a :
                 s.argumentsResolved ? client->resolvedArguments(f) : client->arguments(f))
                s.arguments.push_back(toJson(a, true));
            if (s.status == FutureStatus::Finished) {
                s.resultJson = toJson(f.result(0ms), true);
                if (s.resultJson.size() > kMaxResultJson) {
                    s.resultJson.resize(kMaxResultJson);
                    s.resultJson += "\n… (truncated)";
                }
            }
            s.error = f.error();
        } catch (const std::exception &e) {
            s.resultJson = e.what();
        }
        QMetaObject::invokeMethod(
            this,
            [ctx, done, s = std::move(s)] {
                if (ctx)
                    done(s);
            },
            Qt::QueuedConnection);
    });
}

void EngineBridge::fetchResultsJson(const std::vector<std::uint64_t> &ids,
                                    QObject *context,
                                    std::function<void(QString)> done)
{
    QPointer<QObject> ctx(context);
    std::vector<Future> futures = handlesFor(ids);
    m_queryPool.start([this, futures, ctx, done] {
        QStringList lines;
        for (const Future &f : futures) {
            try {
                switch (f.status()) {
                case FutureStatus::Finished:
                    lines << QString::fromStdString(toJson(f.result(0ms)));
                    break;
                case FutureStatus::Error:
                    lines << QString::fromStdString(f.error() ? f.error()->describe() : "error");
                    break;
                default:
                    lines << QString::fromLatin1(toString(f.status()));
                    break;
                }
            } catch (const std::exception &e) {
                lines << QString::fromUtf8(e.what());
            }
        }
        QMetaObject::invokeMethod(
            this,
            [ctx, done, text = lines.join(QLatin1Char('\n'))] {
                if (ctx)
                    done(text);
            },
            Qt::QueuedConnection);
    });
}

} // namespace taskbench::gui
