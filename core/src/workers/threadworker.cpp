// Thread workers: N threads in this process share one queue of assignments. Threads take
// small chunks, report completions in batches, and spin briefly before sleeping so that
// back-to-back tasks do not pay a wake-up each.
#include "scheduler/engine_p.h"
#include "taskbench/logging.h"
#include "value/cbor_p.h"

#include <cxxabi.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <typeinfo>

namespace taskbench::detail {

namespace {

/// How long an idle thread spins before it sleeps.
constexpr std::int64_t kSpinUs = 20;

std::string demangle(const char *name)
{
    int status = 0;
    char *out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string result = (status == 0 && out) ? out : name;
    std::free(out);
    return result;
}

class AssignmentContext final : public sdk::TaskContext
{
public:
    AssignmentContext(const Assignment &a, int worker, WorkerSink &sink)
        : m_a(a)
        , m_worker(worker)
        , m_sink(sink)
    {}
    bool cancelled() const override
    {
        return m_a.cancel && m_a.cancel->load(std::memory_order_relaxed);
    }
    void progress(double fraction, std::string_view message) override
    {
        m_sink.progress(m_a.task, m_worker, fraction, std::string(message));
    }
    void log(std::string_view line) override
    {
        m_sink.logLine(m_a.task, m_worker, std::string(line));
    }
    int attempt() const override { return m_a.attempt; }
    std::string key() const override { return m_a.key; }

private:
    const Assignment &m_a;
    int m_worker;
    WorkerSink &m_sink;
};

class ThreadWorker final : public WorkerBackend
{
public:
    ThreadWorker(int id, int threads, WorkerSink &sink)
        : m_id(id)
        , m_threadCount(threads)
        , m_sink(sink)
    {
        m_threads.reserve(std::size_t(threads));
        for (int t = 0; t < threads; ++t)
            m_threads.emplace_back([this, t] { loop(t); });
    }
    ~ThreadWorker() override { stop(); }

    int id() const override { return m_id; }
    std::string name() const override { return "thread-worker-" + std::to_string(m_id); }
    int threads() const override { return m_threadCount; }

    void execute(std::vector<Assignment> batch) override
    {
        bool wake;
        {
            std::lock_guard lock(m_mutex);
            for (Assignment &a : batch)
                m_queue.push_back(std::move(a));
            m_queued.store(m_queue.size(), std::memory_order_release);
            wake = m_sleepers > 0;
        }
        if (wake) {
            if (batch.size() > 1)
                m_cv.notify_all();
            else
                m_cv.notify_one();
        }
    }

    void drain() override
    {
        std::vector<Completion> back;
        {
            std::lock_guard lock(m_mutex);
            for (Assignment &a : m_queue) {
                Completion c;
                c.task = a.task;
                c.attempt = a.attempt;
                c.started = false;
                back.push_back(std::move(c));
            }
            m_queue.clear();
            m_queued.store(0);
        }
        if (!back.empty())
            m_sink.completed(m_id, std::move(back));
    }

    void stop() override
    {
        {
            std::lock_guard lock(m_mutex);
            if (m_stop)
                return;
            m_stop = true;
        }
        m_cv.notify_all();
        for (std::thread &t : m_threads)
            if (t.joinable())
                t.join();
    }

private:
    void loop(int thread)
    {
        std::vector<Assignment> chunk;
        std::vector<Completion> done;
        for (;;) {
            // Spin briefly (yielding: the machine may have fewer cores than threads) before
            // sleeping, so a steady stream of small tasks never pays a wake-up. Bounded in
            // time, not rounds: on a loaded machine one yield may last a whole time slice.
            spinFor(kSpinUs, [&] { return m_queued.load(std::memory_order_acquire) != 0; });
            {
                std::unique_lock lock(m_mutex);
                ++m_sleepers;
                m_cv.wait(lock, [&] { return m_stop || !m_queue.empty(); });
                --m_sleepers;
                if (m_queue.empty() && m_stop)
                    return;
                // Take a fair share so that sibling threads stay busy too.
                std::size_t take = std::max<std::size_t>(
                    1, std::min<std::size_t>(64, m_queue.size() / std::size_t(m_threadCount)));
                for (std::size_t i = 0; i < take; ++i) {
                    chunk.push_back(std::move(m_queue.front()));
                    m_queue.pop_front();
                }
                m_queued.store(m_queue.size(), std::memory_order_release);
            }
            done.reserve(chunk.size());
            for (Assignment &a : chunk) {
                Completion &c = done.emplace_back(runAssignment(a, m_id, thread, m_sink));
                if (c.ok) // what a process worker would send (memory and CPU: unknown here)
                    c.bytes = cbor::sizeBound(c.result);
            }
            chunk.clear();
            m_sink.completed(m_id, std::move(done));
            done = {};
        }
    }

    int m_id;
    int m_threadCount;
    WorkerSink &m_sink;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Assignment> m_queue;
    std::atomic<std::size_t> m_queued{0};
    int m_sleepers = 0;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
};

} // namespace

Completion runAssignment(Assignment &a, int worker, int thread, WorkerSink &sink)
{
    Completion c;
    c.task = a.task;
    c.attempt = a.attempt;
    c.thread = thread;
    c.startUs = wallClockUs();
    if (a.cancel && a.cancel->load(std::memory_order_relaxed)) {
        c.errorType = "CancelledError";
        c.errorMessage = "cancelled before it started";
        c.endUs = c.startUs;
        return c;
    }
    AssignmentContext ctx(a, worker, sink);
    try {
        c.result = a.function->invoke(a.args, ctx);
        c.ok = true;
    } catch (const sdk::TaskException &e) {
        c.errorType = e.type();
        c.errorMessage = e.what();
    } catch (const std::exception &e) {
        c.errorType = demangle(typeid(e).name());
        c.errorMessage = e.what();
    } catch (...) {
        const std::type_info *t = abi::__cxa_current_exception_type();
        c.errorType = t ? demangle(t->name()) : "unknown";
        c.errorMessage = "non-standard exception of type " + c.errorType;
    }
    c.endUs = wallClockUs();
    return c;
}

std::unique_ptr<WorkerBackend> makeThreadWorker(int id, int threads, WorkerSink &sink)
{
    return std::make_unique<ThreadWorker>(id, threads, sink);
}

} // namespace taskbench::detail
