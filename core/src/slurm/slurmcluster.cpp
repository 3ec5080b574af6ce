// The Slurm cluster: one poll thread owns the job list. Each round it reads the queue state
// of the live jobs (squeue), maps jobs to connected workers by the name their worker
// announces (slurm-job-<id>), declares the worker of a job that ended unasked lost (with
// the Slurm cause), works out the target (fixed, or adaptive from the queued work) and
// submits or cancels jobs to meet it. scale/adapt/close only change the target and wake it.
#include "taskbench/slurmcluster.h"

#include "slurm/slurmcommands_p.h"
#include "util/childprocess_p.h"

#include "taskbench/clock.h"
#include "taskbench/logging.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <unistd.h>

namespace taskbench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kWorkerNamePrefix = "slurm-job-";

std::shared_ptr<spdlog::logger> slurmLog()
{
    static const std::shared_ptr<spdlog::logger> logger = log::get("slurm");
    return logger;
}

/// A word for a POSIX shell: single-quoted unless it is plainly safe.
std::string shellQuote(const std::string &s)
{
    const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c)
               || std::string_view("@%+=:,./-_").find(char(c)) != std::string_view::npos;
    });
    if (safe)
        return s;
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void checkOneLine(const std::string &what, const std::string &value)
{
    if (value.find_first_of("\n\r") != std::string::npos)
        throw std::invalid_argument("Slurm option " + what + " must not contain a line break");
}

void validate(const SlurmOptions &o)
{
    if (o.cores < 1)
        throw std::invalid_argument("Slurm cores must be at least 1 (got " + std::to_string(o.cores)
                                    + ")");
    if (o.maxFailedStarts < 1)
        throw std::invalid_argument("Slurm maxFailedStarts must be at least 1");
    checkOneLine("memory", o.memory);
    checkOneLine("partition", o.partition);
    checkOneLine("walltime", o.walltime);
    checkOneLine("account", o.account);
    checkOneLine("job name", o.jobName);
    checkOneLine("output", o.outputPattern);
    for (const std::string &e : o.jobExtra)
        checkOneLine("job extra", e);
}

} // namespace

const char *toString(SlurmJobState state)
{
    switch (state) {
    case SlurmJobState::Pending:
        return "pending";
    case SlurmJobState::Running:
        return "running";
    case SlurmJobState::Ended:
        return "ended";
    }
    return "?";
}

std::string SlurmCluster::jobScript(const SlurmOptions &o)
{
    validate(o);
    std::string s = "#!/usr/bin/env bash\n";
    auto directive = [&](const std::string &option) { s += "#SBATCH " + option + "\n"; };
    directive("--job-name=" + o.jobName);
    directive("--ntasks=1");
    directive("--cpus-per-task=" + std::to_string(o.cores));
    if (!o.memory.empty())
        directive("--mem=" + o.memory);
    if (!o.walltime.empty())
        directive("--time=" + o.walltime);
    if (!o.partition.empty())
        directive("--partition=" + o.partition);
    if (!o.account.empty())
        directive("--account=" + o.account);
    if (!o.outputPattern.empty())
        directive("--output=" + o.outputPattern);
    for (const std::string &e : o.jobExtra)
        directive(e);
    s += "\n";
    for (const std::string &line : o.prologue)
        s += line + "\n";
    // One worker per job, named after the job so the scheduler can tell which job it is.
    const std::string exe
        = o.workerExecutable.empty() ? detail::defaultWorkerExecutable() : o.workerExecutable;
    s += "exec " + shellQuote(exe) + " --scheduler "
         + shellQuote(o.schedulerAddress.empty() ? "tcp://HOST:PORT" : o.schedulerAddress)
         + " --token-file " + shellQuote(o.tokenFile.empty() ? "TOKEN_FILE" : o.tokenFile)
         + " --threads \"${SLURM_CPUS_PER_TASK:-" + std::to_string(o.cores) + "}\"" + " --name \""
         + kWorkerNamePrefix + "${SLURM_JOB_ID}\"";
    for (const std::string &a : o.workerExtra)
        s += " " + shellQuote(a);
    s += "\n";
    return s;
}

struct SlurmCluster::State
{
    State(Client &c, SlurmOptions o)
        : client(c)
        , options(std::move(o))
    {
        auto tool = [&](const char *name) {
            return options.slurmBinDir.empty()
                       ? std::string(name)
                       : (std::filesystem::path(options.slurmBinDir) / name).string();
        };
        sbatch = tool("sbatch");
        squeue = tool("squeue");
        scancel = tool("scancel");
        script = SlurmCluster::jobScript(options);
    }

    Client &client;
    const SlurmOptions options;
    std::string sbatch, squeue, scancel, script;

    mutable std::mutex mutex;
    std::condition_variable changed; ///< wakes the poll thread and waitForWorkers
    std::vector<SlurmJob> jobs;      ///< written by the poll thread only
    int target = 0;
    bool adaptive = false;
    int adaptMin = 0;
    int adaptMax = 0;
    bool stopping = false;
    bool gaveUp = false;
    std::string lastError;
    JobsChanged callback;

    // Adaptive mode: tasks per state, from the event stream (engine thread writes).
    // Shared with the subscription's callback, which may still run while this goes away.
    struct TaskCounts
    {
        std::mutex mutex;
        std::array<long, kTaskStateCount> counts{};
    };
    std::shared_ptr<TaskCounts> taskCounts; ///< guarded by `mutex`
    std::mutex subscriptionMutex;
    Subscription subscription;
    void unsubscribe()
    {
        std::lock_guard lock(subscriptionMutex);
        subscription.reset();
    }

    // Poll thread only.
    int failedStarts = 0;
    std::optional<Clock::time_point> lowSince;
    std::set<std::string> connectedOnce; ///< jobs whose worker connected at some point
    std::set<std::string> reported;      ///< lost jobs whose final state was logged
    std::set<std::string> retiring;      ///< scaled down: waiting for the worker to leave

    std::thread thread;

    void run();
    void round();
    void submit(int n);
    void cancel(const std::vector<std::string> &ids, const std::string &cause);
    int desiredTarget();
    void fail(std::string message)
    {
        std::lock_guard lock(mutex);
        if (message != lastError) // a Slurm that stays down is reported once, not every poll
            slurmLog()->error("{}", message);
        lastError = std::move(message);
    }
    void notify()
    {
        JobsChanged cb;
        std::vector<SlurmJob> snapshot;
        {
            std::lock_guard lock(mutex);
            cb = callback;
            snapshot = jobs;
        }
        changed.notify_all();
        if (cb)
            cb(snapshot);
    }
};

SlurmCluster::SlurmCluster(Client &client, SlurmOptions options)
{
    if (options.schedulerAddress.empty())
        throw std::invalid_argument("a Slurm cluster needs the address its workers connect to "
                                    "(the client must listen: --listen HOST:PORT)");
    if (options.tokenFile.empty())
        throw std::invalid_argument("a Slurm cluster needs the token file its workers read");
    m_state = std::make_shared<State>(client, std::move(options));
    m_state->thread = std::thread([s = m_state.get()] { s->run(); });
}

SlurmCluster::~SlurmCluster()
{
    close();
}

const SlurmOptions &SlurmCluster::options() const
{
    return m_state->options;
}

std::string SlurmCluster::jobScript() const
{
    return m_state->script;
}

void SlurmCluster::scale(int jobs)
{
    {
        std::lock_guard lock(m_state->mutex);
        m_state->adaptive = false;
        m_state->target = std::max(0, jobs);
        m_state->gaveUp = false;
    }
    m_state->unsubscribe();
    m_state->changed.notify_all();
}

void SlurmCluster::adapt(int minimum, int maximum)
{
    minimum = std::max(0, minimum);
    maximum = std::max(minimum, maximum);
    State *s = m_state.get();
    bool wasAdaptive = false;
    {
        std::lock_guard lock(s->mutex);
        wasAdaptive = s->adaptive;
    }
    if (!wasAdaptive) {
        // Count tasks per state from the transitions; tasks submitted before this call are
        // unseen until they move, which only makes the first estimate low.
        auto counts = std::make_shared<State::TaskCounts>();
        Subscription sub = s->client.subscribe(
            [counts](const EventBatch &batch) {
                std::lock_guard lock(counts->mutex);
                for (const Event &e : batch) {
                    if (e.kind != EventKind::Transition)
                        continue;
                    long &from = counts->counts[std::size_t(e.from)];
                    from = std::max(0L, from - 1);
                    ++counts->counts[std::size_t(e.to)];
                }
            },
            eventBit(EventKind::Transition) | kForgottenTransitions);
        {
            std::lock_guard lock(s->mutex);
            s->taskCounts = counts;
        }
        std::lock_guard lock(s->subscriptionMutex);
        s->subscription = std::move(sub);
    }
    {
        std::lock_guard lock(s->mutex);
        s->adaptive = true;
        s->adaptMin = minimum;
        s->adaptMax = maximum;
        s->target = std::clamp(s->target, minimum, maximum);
        s->gaveUp = false;
    }
    s->changed.notify_all();
}

int SlurmCluster::target() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->target;
}

std::vector<SlurmJob> SlurmCluster::jobs() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->jobs;
}

bool SlurmCluster::waitForWorkers(int count, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(m_state->mutex);
    return m_state->changed.wait_for(
               lock,
               timeout,
               [&] {
                   const long connected = std::count_if(
                       m_state->jobs.begin(), m_state->jobs.end(), [](const SlurmJob &j) {
                           return j.state != SlurmJobState::Ended && j.worker >= 0;
                       });
                   return connected >= count || m_state->gaveUp || m_state->stopping;
               })
           && !m_state->gaveUp && !m_state->stopping;
}

bool SlurmCluster::waitUntilSubmitted(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(m_state->mutex);
    auto submitted = [&] {
        const long live
            = std::count_if(m_state->jobs.begin(), m_state->jobs.end(), [](const SlurmJob &j) {
                  return j.state != SlurmJobState::Ended && !j.cancelRequested;
              });
        return live >= m_state->target;
    };
    return m_state->changed.wait_for(
               lock, timeout, [&] { return submitted() || m_state->gaveUp || m_state->stopping; })
           && !m_state->gaveUp && submitted();
}

std::string SlurmCluster::lastError() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->lastError;
}

void SlurmCluster::onJobsChanged(JobsChanged callback)
{
    std::lock_guard lock(m_state->mutex);
    m_state->callback = std::move(callback);
}

void SlurmCluster::close()
{
    if (!m_state)
        return;
    State *s = m_state.get();
    {
        std::lock_guard lock(s->mutex);
        if (s->stopping && !s->thread.joinable())
            return;
        s->stopping = true;
        s->target = 0;
    }
    s->unsubscribe();
    s->changed.notify_all();
    if (s->thread.joinable())
        s->thread.join();

    std::vector<std::string> live;
    {
        std::lock_guard lock(s->mutex);
        for (const SlurmJob &j : s->jobs)
            if (j.state != SlurmJobState::Ended)
                live.push_back(j.id);
    }
    if (live.empty())
        return;
    s->cancel(live, "cluster closed");
    // Wait until Slurm has them all ending or ended: nothing pending or running is left.
    const auto deadline = Clock::now() + 10s;
    for (;;) {
        s->round();
        {
            std::lock_guard lock(s->mutex);
            if (std::none_of(s->jobs.begin(), s->jobs.end(), [](const SlurmJob &j) {
                    return j.state != SlurmJobState::Ended;
                }))
                return;
        }
        if (Clock::now() >= deadline) {
            s->fail("closing: Slurm still shows jobs of this cluster pending or running");
            return;
        }
        std::this_thread::sleep_for(200ms); // polling an external program
    }
}

void SlurmCluster::State::run()
{
    std::unique_lock lock(mutex);
    while (!stopping) {
        lock.unlock();
        round();
        lock.lock();
        changed.wait_for(lock, options.pollInterval, [&] { return stopping; });
    }
}

int SlurmCluster::State::desiredTarget()
{
    // Called with `mutex` held.
    if (!adaptive)
        return target;
    long work = 0;
    if (taskCounts) {
        std::lock_guard lock(taskCounts->mutex);
        const auto &c = taskCounts->counts;
        work = c[std::size_t(TaskState::Waiting)] + c[std::size_t(TaskState::Queued)]
               + c[std::size_t(TaskState::Processing)];
    }
    const int wanted
        = std::clamp(int((work + options.cores - 1) / options.cores), adaptMin, adaptMax);
    if (wanted >= target) {
        lowSince.reset();
        return wanted;
    }
    // Less work than jobs: wait for the cooldown before cancelling (work comes in waves).
    if (!lowSince)
        lowSince = Clock::now();
    return Clock::now() - *lowSince >= options.adaptCooldown ? wanted : target;
}

void SlurmCluster::State::round()
{
    // 1. Queue state of the jobs not known to have ended (COMPLETING ones too: their final
    //    state names the cause).
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mutex);
        for (const SlurmJob &j : jobs)
            if (j.state != SlurmJobState::Ended || j.slurmState == "COMPLETING")
                ids.push_back(j.id);
    }
    bool dirty = false;
    std::vector<std::pair<int, std::string>> lost; // worker, cause
    if (!ids.empty()) {
        std::string list;
        for (const std::string &id : ids)
            list += (list.empty() ? "" : ",") + id;
        const detail::CommandResult r
            = detail::runCommand(squeue, {"-h", "-t", "all", "-j", list, "-o", "%i|%T|%N|%r"});
        // squeue fails for a list of only purged ids ("Invalid job id"): those ended long ago.
        const bool allGone
            = r.started && r.exitCode != 0 && r.err.find("Invalid job id") != std::string::npos;
        if (!r.started || (r.exitCode != 0 && !allGone)) {
            fail(r.describe("squeue"));
        } else {
            const auto rows = detail::parseSqueue(allGone ? std::string() : r.out);
            std::lock_guard lock(mutex);
            for (SlurmJob &j : jobs) {
                if (std::find(ids.begin(), ids.end(), j.id) == ids.end())
                    continue;
                const auto it = rows.find(j.id);
                const std::string slurmState = it == rows.end() ? std::string() : it->second.state;
                const SlurmJobState state = it == rows.end()
                                                ? SlurmJobState::Ended
                                                : detail::jobStateFromSlurm(slurmState);
                const bool wasEnded = j.state == SlurmJobState::Ended;
                if (state == j.state && slurmState == j.slurmState
                    && (it == rows.end()
                        || (it->second.node == j.node && it->second.reason == j.reason)))
                    continue;
                dirty = true;
                j.state = state;
                j.slurmState = it == rows.end()
                                   ? (j.slurmState == "COMPLETING" ? "ENDED" : "UNKNOWN")
                                   : slurmState;
                if (it != rows.end()) {
                    if (!it->second.node.empty())
                        j.node = it->second.node;
                    j.reason = it->second.reason;
                }
                if (state != SlurmJobState::Ended)
                    continue;
                if (j.cancelRequested)
                    continue;
                // Lost. The cause is final once COMPLETING has passed.
                j.lost = true;
                if (!wasEnded || it != rows.end())
                    j.cause = detail::endCause(
                        j.id, it == rows.end() ? std::string() : slurmState, j.reason);
                if (!wasEnded && j.worker >= 0)
                    lost.emplace_back(j.worker, j.cause); // free its tasks now
                if (j.slurmState == "COMPLETING" || !reported.insert(j.id).second)
                    continue;
                slurmLog()->warn("worker job lost: {}", j.cause);
                if (j.slurmState == "COMPLETED" && connectedOnce.count(j.id) != 0) {
                    // Its worker exited normally: the scheduler closed or let it go.
                    // Replacing it would only start workers nobody waits for.
                    gaveUp = true;
                    lastError = j.cause + ": the scheduler let its worker go; not submitting more";
                } else if (connectedOnce.count(j.id) == 0
                           && ++failedStarts >= options.maxFailedStarts && !gaveUp) {
                    gaveUp = true;
                    lastError = std::to_string(failedStarts)
                                + " Slurm jobs in a row ended before their worker connected (last: "
                                + j.cause + "); not submitting more. See the job's output ("
                                + (options.outputPattern.empty()
                                       ? std::string("slurm-%j.out in the submission folder")
                                       : options.outputPattern)
                                + ", %j = " + j.id + ").";
                    slurmLog()->error("{}", lastError);
                }
            }
        }
    }

    // 2. Which worker each job started (the name its worker announced).
    std::vector<WorkerInfo> workers = client.workers();
    {
        std::lock_guard lock(mutex);
        for (SlurmJob &j : jobs) {
            const auto w = std::find_if(workers.begin(), workers.end(), [&](const WorkerInfo &i) {
                return i.label == j.workerName;
            });
            if (w != workers.end() && j.worker != w->id) {
                j.worker = w->id;
                connectedOnce.insert(j.id);
                failedStarts = 0;
                dirty = true;
            }
        }
    }
    // Retired workers that are gone: now their jobs can go (scancel; most already ended
    // when their worker exited).
    std::vector<std::string> retired;
    {
        std::lock_guard lock(mutex);
        for (const SlurmJob &j : jobs) {
            if (retiring.count(j.id) == 0)
                continue;
            const bool present = std::any_of(workers.begin(),
                                             workers.end(),
                                             [&](const WorkerInfo &w) { return w.id == j.worker; });
            if (!present || j.state == SlurmJobState::Ended)
                retired.push_back(j.id);
        }
    }
    for (const std::string &id : retired)
        retiring.erase(id);
    if (!retired.empty())
        cancel(retired, "scaled down");

    // 3. A job that ended unasked whose worker is still connected (a failed node keeps no
    //    connection alive, but it may take TCP long to notice): declare it lost now.
    for (const auto &[worker, cause] : lost) {
        const bool connected
            = std::any_of(workers.begin(), workers.end(), [w = worker](const WorkerInfo &i) {
                  return i.id == w && i.alive;
              });
        if (connected)
            client.loseWorker(worker, cause);
    }

    // 4. Meet the target.
    int toSubmit = 0;
    std::vector<std::string> toCancel;
    std::vector<std::pair<std::string, int>> toRetire; // job, worker
    {
        std::lock_guard lock(mutex);
        target = desiredTarget();
        std::vector<SlurmJob *> live;
        // A job that ended unasked before its worker connected and is still COMPLETING has
        // no final state yet: whether it counts as a failed start is known next round, and
        // replacing it now would submit a job past maxFailedStarts.
        int settling = 0;
        for (SlurmJob &j : jobs) {
            if (j.state != SlurmJobState::Ended && !j.cancelRequested)
                live.push_back(&j);
            else if (j.slurmState == "COMPLETING" && !j.cancelRequested
                     && connectedOnce.count(j.id) == 0)
                ++settling;
        }
        if (int(live.size()) + settling < target && !gaveUp && !stopping) {
            toSubmit = target - int(live.size()) - settling;
        } else if (int(live.size()) > target) {
            // Cancel pending jobs first (newest first), then workers with the least to do.
            auto busy = [&](const SlurmJob *j) -> std::size_t {
                const auto w = std::find_if(workers.begin(),
                                            workers.end(),
                                            [&](const WorkerInfo &i) { return i.id == j->worker; });
                return w == workers.end() ? 0 : w->running.size() + w->resultsHeld;
            };
            std::stable_sort(live.begin(), live.end(), [&](const SlurmJob *a, const SlurmJob *b) {
                const bool ap = a->state == SlurmJobState::Pending,
                           bp = b->state == SlurmJobState::Pending;
                if (ap != bp)
                    return ap;
                if (ap)
                    return a->submittedUs > b->submittedUs;
                return busy(a) < busy(b);
            });
            for (int i = 0; i < int(live.size()) - target; ++i) {
                SlurmJob *j = live[std::size_t(i)];
                const bool connected
                    = j->worker >= 0
                      && std::any_of(workers.begin(), workers.end(), [&](const WorkerInfo &w) {
                             return w.id == j->worker;
                         });
                if (connected && !stopping) {
                    // Retire its worker first: its results move to the scheduler and its
                    // running tasks finish; the job is cancelled once the worker is gone.
                    j->cancelRequested = true;
                    j->cause = "scaled down";
                    toRetire.emplace_back(j->id, j->worker);
                } else {
                    toCancel.push_back(j->id);
                }
            }
        }
    }
    for (const auto &[id, worker] : toRetire) {
        if (client.retireWorker(worker))
            retiring.insert(id);
        else
            toCancel.push_back(id); // gone meanwhile
        dirty = true;
    }
    if (!toCancel.empty()) {
        cancel(toCancel, stopping ? "cluster closed" : "scaled down");
        dirty = true;
    }
    if (toSubmit > 0) {
        submit(toSubmit);
        dirty = true;
    }
    if (dirty)
        notify();
}

void SlurmCluster::State::submit(int n)
{
    for (int i = 0; i < n; ++i) {
        const detail::CommandResult r = detail::runCommand(sbatch, {"--parsable"}, script);
        const std::optional<std::string> id
            = r.exitCode == 0 ? detail::parseSbatchJobId(r.out) : std::nullopt;
        if (!id) {
            fail("cannot submit a worker job: " + r.describe("sbatch"));
            {
                std::lock_guard lock(mutex);
                if (++failedStarts >= options.maxFailedStarts)
                    gaveUp = true;
            }
            changed.notify_all();
            return;
        }
        SlurmJob job;
        job.id = *id;
        job.state = SlurmJobState::Pending;
        job.slurmState = "PENDING";
        job.workerName = kWorkerNamePrefix + *id;
        job.submittedUs = wallClockUs();
        slurmLog()->info("submitted worker job {}", job.id);
        std::lock_guard lock(mutex);
        jobs.push_back(std::move(job));
    }
}

void SlurmCluster::State::cancel(const std::vector<std::string> &ids, const std::string &cause)
{
    {
        std::lock_guard lock(mutex);
        for (SlurmJob &j : jobs) {
            if (std::find(ids.begin(), ids.end(), j.id) != ids.end()) {
                // Marked before scancel: the poll that sees them end must not take them
                // for lost workers.
                j.cancelRequested = true;
                j.cause = cause;
            }
        }
    }
    const detail::CommandResult r = detail::runCommand(scancel, ids);
    if (r.exitCode != 0)
        fail("cannot cancel worker jobs: " + r.describe("scancel"));
    else
        slurmLog()->info("cancelled {} worker job(s): {}", ids.size(), cause);
}

} // namespace taskbench
