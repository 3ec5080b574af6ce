// The engine's side of the result cache (ClusterOptions::resultCache, see
// taskbench/resultcache.h). A cacheable task (pure, keyed by its token, or a graph task
// whose cacheKey() is the key submit would give its call; its inputs cacheable too) that
// becomes ready does not go to the ready queue at once: it waits in m_cacheCheck until the
// end of the scheduler's round, when one lookup answers all of them (a 100,000-task map asks
// once, not 100,000 times). A hit finishes the task without running it, which may make its
// dependents ready and cacheable in turn, so the lookup repeats until nothing is left; a miss
// is queued as usual. A task that finished by running offers its value to the cache (a value
// held by a process worker: when it is fetched, transfers.cpp).
#include "scheduler/engine_p.h"
#include "scheduler/enginelog_p.h"
#include "taskbench/resultcache.h"

#include <charconv>
#include <exception>

namespace taskbench::detail {

bool Engine::deferToCache(TaskRecord *r)
{
    // Only a task waiting for its turn: one handed back by a worker was looked up already.
    if (!r->cacheable || r->state != TaskState::Waiting)
        return false;
    if (r->function && !r->function->cacheable) { // it has side effects (its plugin says)
        r->cacheable = false;                     // nor is its value stored
        return false;
    }
    // Its key names its inputs by their keys, which say what they hold only if they are
    // cacheable too: not after an edit of their arguments, nor for an explicit or random key.
    for (const TaskRecord *d : r->deps) {
        if (d->function && !d->cacheable) {
            r->cacheable = false; // nor stored, and so its own dependents are not either
            return false;
        }
    }
    m_cacheCheck.push_back(r->id);
    return true;
}

void Engine::lookupCached()
{
    ResultCache *cache = m_options.resultCache.get();
    std::vector<CacheRequest> requests;
    std::vector<TaskRecord *> asked;
    std::vector<std::optional<CacheHit>> answers;
    while (!m_cacheCheck.empty()) {
        std::vector<std::uint64_t> ids;
        ids.swap(m_cacheCheck);
        requests.clear();
        asked.clear();
        for (std::uint64_t id : ids) {
            TaskRecord *r = lookup(id);
            // Cancelled, forgotten or already handled meanwhile (a task may be listed twice).
            if (!r || r->state != TaskState::Waiting || r->waitingOn != 0)
                continue;
            if (!cache || !r->function) {
                enqueueReady(r);
                continue;
            }
            requests.push_back(CacheRequest{r->function.get(), r->cacheKey()});
            asked.push_back(r);
        }
        if (asked.empty())
            continue;
        answers.clear();
        try {
            cache->lookup(requests, answers);
        } catch (const std::exception &e) {
            engineLog()->warn("result cache lookup failed, computing instead: {}", e.what());
            answers.clear();
        } catch (...) {
            engineLog()->warn("result cache lookup failed, computing instead");
            answers.clear();
        }
        for (std::size_t i = 0; i < asked.size(); ++i) {
            TaskRecord *r = asked[i];
            // A hit before this one finished a task whose inputs were all in memory: that
            // only touches its dependents (waiting on it, so not asked) and its inputs
            // (in memory, so not asked either); asked tasks stay alive and waiting.
            if (i < answers.size() && answers[i]) {
                r->cached.store(true, std::memory_order_relaxed);
                finish(r, std::move(answers[i]->value), cacheNote(answers[i]->session));
            } else {
                enqueueReady(r);
            }
        }
    }
}

void Engine::offerToCache(TaskRecord *r)
{
    if (r->cached.load(std::memory_order_relaxed)) // computed this time (needed again)
        r->cached.store(false, std::memory_order_relaxed);
    if (!r->cacheable || r->remote || !r->function || !r->function->cacheable
        || !m_options.resultCache)
        return;
    try {
        m_options.resultCache->store(*r->function, r->cacheKey(), r->result);
    } catch (const std::exception &e) {
        engineLog()->warn("result cache: cannot store {}: {}", r->key(), e.what());
    } catch (...) {
        engineLog()->warn("result cache: cannot store {}", r->key());
    }
}

const char *Engine::cacheNote(std::int64_t session)
{
    // Transition notes are plain pointers: each session's note is made once and kept.
    auto it = m_cacheNotes.find(session);
    if (it == m_cacheNotes.end())
        it = m_cacheNotes.emplace(session, cacheHitNote(session)).first;
    return it->second.c_str();
}

} // namespace taskbench::detail

namespace taskbench {

namespace {
constexpr std::string_view kHitNote = "from cache";
constexpr std::string_view kSessionPart = ", session ";
} // namespace

std::string cacheHitNote(std::int64_t session)
{
    std::string note(kHitNote);
    if (session > 0)
        note.append(kSessionPart).append(std::to_string(session));
    return note;
}

std::int64_t cacheHitSession(std::string_view note)
{
    if (note.substr(0, kHitNote.size()) != kHitNote)
        return -1;
    note.remove_prefix(kHitNote.size());
    if (note.empty())
        return 0;
    if (note.substr(0, kSessionPart.size()) != kSessionPart)
        return -1;
    note.remove_prefix(kSessionPart.size());
    std::int64_t session = 0;
    const auto [end, ec] = std::from_chars(note.data(), note.data() + note.size(), session);
    return ec == std::errc() && end == note.data() + note.size() && session > 0 ? session : -1;
}

} // namespace taskbench
