// Client's steering calls (taskbench/steering.h): each is a round trip to the scheduler
// thread, where scheduler/steering.cpp applies it. Also the breakpoints' descriptions.
#include "client/future_p.h"
#include "scheduler/engine_p.h"
#include "value/replacerefs_p.h"

#include <unordered_map>

namespace taskbench {

using detail::TaskRecord;

const char *toString(Breakpoint::Match match)
{
    switch (match) {
    case Breakpoint::Match::Key:
        return "key";
    case Breakpoint::Match::Function:
        return "function";
    case Breakpoint::Match::Group:
        return "group";
    }
    return "unknown";
}

std::string Breakpoint::describe() const
{
    std::string text = std::string(toString(match)) + " " + pattern;
    if (minAttempt > 1)
        text += ", attempt >= " + std::to_string(minAttempt);
    return text;
}

void Client::pause(PauseMode mode)
{
    m_engine->query([&] { m_engine->setPaused(true, mode); });
}

void Client::resume()
{
    m_engine->query([&] { m_engine->setPaused(false, PauseMode::Drain); });
}

bool Client::isPaused() const
{
    return m_engine->paused();
}

int Client::addBreakpoint(Breakpoint breakpoint)
{
    if (breakpoint.pattern.empty())
        throw std::invalid_argument("a breakpoint needs a key, function or group to match");
    int id = 0;
    m_engine->query([&] { id = m_engine->addBreakpoint(std::move(breakpoint)); });
    return id;
}

bool Client::removeBreakpoint(int id)
{
    bool ok = false;
    m_engine->query([&] { ok = m_engine->removeBreakpoint(id); });
    return ok;
}

std::vector<Breakpoint> Client::breakpoints()
{
    std::vector<Breakpoint> out;
    m_engine->query([&] { out = m_engine->breakpoints(); });
    return out;
}

std::vector<Future> Client::heldTasks()
{
    std::vector<Future> out;
    m_engine->query([&] {
        for (TaskRecord *r : m_engine->heldRecords())
            out.push_back(Future(r, m_engine));
    });
    return out;
}

std::size_t Client::release(const std::vector<Future> &futures)
{
    std::size_t n = 0;
    m_engine->query([&] {
        for (const Future &f : futures)
            if (f.valid() && m_engine->releaseHeld(f.m_task))
                ++n;
    });
    return n;
}

std::size_t Client::releaseAll()
{
    std::size_t n = 0;
    m_engine->query([&] {
        for (TaskRecord *r : m_engine->heldRecords())
            if (m_engine->releaseHeld(r))
                ++n;
    });
    return n;
}

Future Client::step()
{
    Future out;
    m_engine->query([&] {
        const auto held = m_engine->heldRecords();
        if (!held.empty() && m_engine->releaseHeld(held.front()))
            out = Future(held.front(), m_engine);
    });
    return out;
}

std::vector<Value> Client::resolvedArguments(const Future &future)
{
    requireValid(future);
    std::vector<Value> args;
    std::vector<Future> inputs;
    m_engine->query([&] {
        TaskRecord *r = future.m_task;
        args = detail::currentArgs(r);
        for (TaskRecord *d : r->deps)
            inputs.push_back(Future(d, m_engine));
    });
    // Fetched here, off the scheduler thread: a value held by a process worker travels.
    std::unordered_map<std::string, Value> values;
    for (const Future &input : inputs) {
        if (input.status() != FutureStatus::Finished)
            continue;
        try {
            values.emplace(input.key(), input.result(std::chrono::seconds(0)));
        } catch (const std::exception &) {
            // Lost or released meanwhile: it stays a reference.
        }
    }
    for (Value &a : args)
        detail::replaceRefs(a, [&](const std::string &key, Value &slot) {
            if (const auto it = values.find(key); it != values.end())
                slot = it->second;
            return true;
        });
    return args;
}

void Client::setArguments(const Future &held, std::vector<Value> args)
{
    requireValid(held);
    if (FunctionPtr fn = functions().find(held.function())) {
        std::string error;
        auto bound = FunctionRegistry::bindArguments(*fn, std::move(args), {}, &error);
        if (!bound)
            throw std::invalid_argument(error);
        args = std::move(*bound);
    }
    m_engine->query([&] { m_engine->setArguments(held.m_task, std::move(args)); });
}

void Client::setPriority(const std::vector<Future> &futures, int priority)
{
    m_engine->query([&] {
        for (const Future &f : futures)
            if (f.valid())
                m_engine->setPriority(f.m_task, priority);
    });
}

int Client::runNext(const Future &future)
{
    requireValid(future);
    int priority = 0;
    m_engine->query([&] { priority = m_engine->runNext(future.m_task); });
    return priority;
}

bool Client::killNow(const Future &future, std::string *why)
{
    requireValid(future);
    bool ok = false;
    m_engine->query([&] { ok = !m_engine->closed() && m_engine->killNow(future.m_task, why); });
    return ok;
}

} // namespace taskbench
