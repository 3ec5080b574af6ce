// Future: a small handle on a task record. Copies count references on the record (the last
// one gone tells the scheduler); reads go to the record's published fields; result() waits
// for the task and fetches a value held on a worker.
#include "client/future_p.h"
#include "scheduler/engine_p.h"

#include "taskbench/valuecodec.h"

#include <future>

namespace taskbench {

using detail::Engine;
using detail::TaskRecord;

Future::Future(TaskRecord *task, std::shared_ptr<Engine> engine)
    : m_task(task)
    , m_engine(std::move(engine))
{
    m_task->userRefs.fetch_add(1, std::memory_order_relaxed);
}

Future::Future(const Future &other)
    : m_task(other.m_task)
    , m_engine(other.m_engine)
{
    if (m_task)
        m_task->userRefs.fetch_add(1, std::memory_order_relaxed);
}

Future::Future(Future &&other) noexcept
    : m_task(std::exchange(other.m_task, nullptr))
    , m_engine(std::move(other.m_engine))
{}

Future &Future::operator=(const Future &other)
{
    if (this != &other) {
        Future copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Future &Future::operator=(Future &&other) noexcept
{
    if (this != &other) {
        release();
        m_task = std::exchange(other.m_task, nullptr);
        m_engine = std::move(other.m_engine);
    }
    return *this;
}

Future::~Future()
{
    release();
}

void Future::release()
{
    if (!m_task)
        return;
    const std::uint64_t id = m_task->id;
    // After the decrement the record may go at any time: do not touch it again.
    if (m_task->userRefs.fetch_sub(1, std::memory_order_acq_rel) == 1)
        m_engine->postRelease(id);
    m_task = nullptr;
    m_engine.reset();
}

std::uint64_t Future::id() const
{
    requireValid(*this);
    return m_task->id;
}

const std::string &Future::key() const
{
    requireValid(*this);
    return m_task->key();
}

const std::string &Future::function() const
{
    requireValid(*this);
    return m_task->functionName();
}

FutureStatus Future::status() const
{
    requireValid(*this);
    return FutureStatus(m_task->status.load(std::memory_order_seq_cst));
}

Value Future::result(std::optional<Duration> timeout) const
{
    requireValid(*this);
    TaskRecord *r = m_task;
    for (;;) {
        if (!m_engine->waitUntil([r] { return isTerminal(FutureStatus(r->status.load())); },
                                 timeout))
            throw TimeoutError("timed out waiting for " + r->key());
        std::unique_lock lock(m_engine->stripe(r));
        switch (FutureStatus(r->status.load())) {
        case FutureStatus::Finished: {
            if (!r->remotePublished)
                return r->result;
            lock.unlock();
            // The value lives on a worker: ask the scheduler to fetch it. The timeout bounds
            // the wait for the task, not this transfer: the value exists, and the transfer
            // ends when it arrives, fails for good (too large for a frame: the error says
            // so) or the worker is lost (then the task is recomputed and waited for again).
            // Bounding it would make result(0s) on a finished task fail for any large value.
            if (m_engine->onSchedulerThread())
                throw std::runtime_error("the result of " + r->key()
                                         + " is held by a worker and cannot be fetched on the "
                                           "engine's thread (in a done callback or event "
                                           "subscriber): read it from another thread");
            auto reply = std::make_shared<std::promise<Value>>();
            auto value = reply->get_future();
            if (!m_engine->post(detail::FetchMsg{r->id, reply}))
                throw CancelledError("the client is closed");
            try {
                return value.get();
            } catch (const detail::ResultLostError &) {
                continue; // lost meanwhile: recomputed, wait again
            }
        }
        case FutureStatus::Error:
            if (r->error)
                throw TaskFailed(*r->error);
            break; // being retried
        case FutureStatus::Cancelled:
            throw CancelledError("task " + r->key() + " was cancelled");
        case FutureStatus::Lost:
            if (r->error)
                throw TaskFailed(*r->error);
            {
                TaskError lost;
                lost.type = "LostResult";
                lost.message = "the result of " + r->key() + " was lost";
                lost.rootKey = r->key();
                throw TaskFailed(lost);
            }
        default:
            break; // changed again meanwhile (retry): wait once more
        }
    }
}

std::optional<TaskError> Future::error() const
{
    requireValid(*this);
    std::lock_guard lock(m_engine->stripe(m_task));
    if (m_task->error && FutureStatus(m_task->status.load()) != FutureStatus::Finished)
        return *m_task->error;
    return std::nullopt;
}

const std::vector<Value> &Future::submittedArguments() const
{
    requireValid(*this);
    // Set before the record was published (under the registry mutex) and never changed:
    // edits go to TaskExtras::editedArgs.
    return m_task->args;
}

std::string Future::typeName() const
{
    requireValid(*this);
    std::lock_guard lock(m_engine->stripe(m_task));
    if (FutureStatus(m_task->status.load()) != FutureStatus::Finished)
        return {};
    if (m_task->remotePublished)
        return m_task->remoteType;
    return m_task->result.typeName();
}

int Future::attempts() const
{
    requireValid(*this);
    std::lock_guard lock(m_engine->stripe(m_task));
    return m_task->attemptsPublished;
}

AttemptUsage Future::usage() const
{
    requireValid(*this);
    std::lock_guard lock(m_engine->stripe(m_task));
    return m_task->usage;
}

bool Future::cached() const
{
    requireValid(*this);
    return m_task->cached.load(std::memory_order_relaxed);
}

std::string Future::repr() const
{
    if (!valid())
        return "<Future: invalid>";
    const std::string type = typeName();
    const std::string &fn = m_task->function ? m_task->function->name : std::string("scatter");
    return "<Future: " + fn + " status: " + toString(status())
           + ", type: " + (type.empty() ? "null" : type) + ", key: " + key() + ">";
}

void Future::addDoneCallback(std::function<void(const Future &)> fn) const
{
    requireValid(*this);
    if (!m_engine->post(detail::CallbackMsg{m_task->id, fn}))
        fn(*this); // closed: the future is as done as it will ever be
}

void Future::cancel() const
{
    requireValid(*this);
    m_engine->post(detail::CancelMsg{{m_task->id}});
    m_engine->query([] {});
}

void Future::retry() const
{
    requireValid(*this);
    m_engine->post(detail::RetryMsg{{m_task->id}});
    m_engine->query([] {});
}

} // namespace taskbench
