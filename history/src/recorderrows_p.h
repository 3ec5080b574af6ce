// The recorder's rows: the engine's events and the futures handed to track() folded into one
// row per task (state, times, worker, story, attempts, result or error), plus the session's
// logs, workers and plugins. Each is marked dirty when it changes until SessionWriter has
// committed it. Used on the recorder thread only.
//
// A big map has as many rows as tasks, so a row is kept small: key, function, group and deps
// are the engine's shared TasksAdded list, the first transitions and attempt sit inline, and
// only a failed task allocates its error.
#pragma once

#include "taskbench/client.h"
#include "taskbench/history/historytypes.h"
#include "taskbench/history/recorder.h"
#include "trackparking_p.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace taskbench::history {

/// Futures handed to Recorder::track(), with their submit options.
struct TrackItem
{
    std::vector<Future> futures;
    SubmitOptions options;
};

/// A list that keeps its first N items in place: a task of a big map has four transitions
/// and one attempt, and a heap block for each would be most of what recording allocates.
/// The rare rest goes to a vector made on first use (one pointer while there is none).
template <typename T, std::size_t N>
class InlineList
{
public:
    void push_back(const T &item)
    {
        if (m_size < N) {
            m_first[m_size] = item;
        } else {
            if (!m_more)
                m_more = std::make_unique<std::vector<T>>();
            m_more->push_back(item);
        }
        ++m_size;
    }
    bool empty() const { return m_size == 0; }
    template <typename F>
    void forEach(F &&f) const
    {
        for (std::size_t i = 0; i < std::min<std::size_t>(m_size, N); ++i)
            f(m_first[i]);
        if (m_more)
            for (const T &item : *m_more)
                f(item);
    }

private:
    std::array<T, N> m_first{};
    std::uint32_t m_size = 0;
    std::unique_ptr<std::vector<T>> m_more;
};

/// A TransitionRecord in 16 bytes instead of 24: a row keeps four of them inline.
struct Step
{
    std::int64_t timeUs = 0;
    std::int32_t worker = -1;
    std::uint16_t attempt = 0; ///< saturates at 65535 (a task retried that often is stuck)
    TaskState from = TaskState::Released;
    TaskState to = TaskState::Released;

    static Step of(const Event &e)
    {
        return of(TransitionRecord{e.from, e.to, e.timeUs, e.worker, e.attempt});
    }
    static Step of(const TransitionRecord &t)
    {
        return Step{
            t.timeUs, t.worker, std::uint16_t(std::clamp(t.attempt, 0, 0xffff)), t.from, t.to};
    }
    TransitionRecord record() const { return TransitionRecord{from, to, timeUs, worker, attempt}; }
};
static_assert(sizeof(Step) == 16);

/// What only a failed task has.
struct Failure
{
    std::string type;
    std::string message;
    std::string root;
    std::string traceback;
    std::string output;
};

/// One task as the recorder knows it until its row is final. Kept small (a map of 100,000
/// tasks has as many): the key, function, group and deps are the engine's TasksAdded list
/// and the options are one string per track() call, all shared and not copied; what only a
/// failed task has is allocated for failed tasks.
struct Row
{
    /// Key, function, group, deps: the TasksAdded detail of its submit (the task is
    /// info->tasks's entry `index`), or one made from its future (identify()).
    std::shared_ptr<const EventDetail> info;
    std::shared_ptr<const std::string> optionsJson; ///< null: defaults (or not tracked)
    std::string argsJson;                           ///< "" if not tracked
    std::string resultJson;
    const std::string *resultType = nullptr; ///< interned (SessionRows::typeNames): few per session
    std::int64_t resultSize = -1;
    std::unique_ptr<Failure> failure;
    InlineList<Step, 4> story;
    InlineList<AttemptRecord, 1> runs;
    Future future;
    std::int64_t submittedUs = 0;
    std::int64_t startedUs = 0;
    std::int64_t finishedUs = 0;
    int attempts = 0;
    int worker = -1;
    /// Served from the result cache: the session that computed it (0 unknown); -1 if not.
    std::int32_t cachedFrom = -1;
    TaskState state = TaskState::Released;
    FutureStatus committedStatus = FutureStatus::Pending; ///< its status in the database
    bool committed = false;                               ///< it has a row in the database
    bool resultStored = false;
    bool tracked = false; ///< handed over with track(): its outcome is recorded
    bool dirty = false;

    std::uint32_t index = 0;

    std::string_view key() const
    {
        if (!info)
            return {};
        return info->tasks ? info->tasks->key(index) : std::string_view(info->key);
    }
    std::span<const std::uint64_t> deps() const
    {
        if (!info)
            return {};
        return info->tasks ? info->tasks->deps(index) : std::span<const std::uint64_t>(info->deps);
    }
    FutureStatus status() const { return futureStatusOf(state); }
    bool terminal() const { return isTerminal(status()); }
};

/// The rows by task id. The engine numbers a client's tasks 1, 2, 3...: rows are kept in
/// blocks indexed by id, without a heap node and a hash bucket per task. An id far beyond
/// the blocks (none the engine makes today) goes to a map instead.
///
/// A row that is final and in the database can be archived: it leaves memory and only a bit
/// says it was there (a block whose rows are all archived gives its storage back). A big map
/// then costs the recorder almost nothing once it has finished; the rare later event for
/// such a task (recomputed after its worker was lost) reads the row back (SessionRows::row).
class RowTable
{
    static constexpr std::uint64_t kBlock = 4096;
    static constexpr std::uint64_t kMaxBlocks = 1 << 16; ///< 268M task ids

    /// Storage for kBlock rows, each constructed when its task is first seen: the block is
    /// written once, row by row as tasks come, rather than all at once and again in use
    /// (and a block's unused tail is never touched).
    class Block
    {
    public:
        ~Block() { destroyRows(); }
        Row *find(std::size_t i) { return m_used[i] ? slot(i) : nullptr; }
        bool archived(std::size_t i) const { return m_archived[i]; }
        std::size_t live() const { return m_live; }
        Row &at(std::size_t i, bool &inserted)
        {
            inserted = !m_used[i];
            if (inserted) {
                if (!m_storage)
                    m_storage = std::make_unique_for_overwrite<Storage[]>(kBlock);
                new (slot(i)) Row();
                m_used[i] = true;
                m_archived[i] = false;
                ++m_live;
            }
            return *slot(i);
        }
        void archive(std::size_t i)
        {
            if (!m_used[i])
                return;
            slot(i)->~Row();
            m_used[i] = false;
            m_archived[i] = true;
            if (--m_live == 0)
                m_storage.reset();
        }

    private:
        struct alignas(Row) Storage
        {
            std::byte bytes[sizeof(Row)];
        };
        Row *slot(std::size_t i) { return std::launder(reinterpret_cast<Row *>(&m_storage[i])); }
        void destroyRows()
        {
            for (std::size_t i = 0; i < kBlock && m_live > 0; ++i)
                if (m_used[i]) {
                    slot(i)->~Row();
                    --m_live;
                }
        }
        std::unique_ptr<Storage[]> m_storage;
        std::bitset<kBlock> m_used;
        std::bitset<kBlock> m_archived;
        std::size_t m_live = 0;
    };

public:
    /// The row of `id`, made if new (`inserted` says so; an archived one is made anew).
    Row &at(std::uint64_t id, bool &inserted)
    {
        if (id / kBlock < kMaxBlocks) {
            const std::size_t b = id / kBlock;
            if (b >= m_blocks.size())
                m_blocks.resize(b + 1);
            if (!m_blocks[b])
                m_blocks[b] = std::make_unique<Block>();
            Row &r = m_blocks[b]->at(id % kBlock, inserted);
            m_live += inserted ? 1 : 0;
            return r;
        }
        m_farArchived.erase(id);
        auto [it, added] = m_far.try_emplace(id);
        inserted = added;
        return it->second;
    }
    Row *find(std::uint64_t id)
    {
        if (id / kBlock < kMaxBlocks) {
            const std::size_t b = id / kBlock;
            if (b >= m_blocks.size() || !m_blocks[b])
                return nullptr;
            return m_blocks[b]->find(id % kBlock);
        }
        auto it = m_far.find(id);
        return it == m_far.end() ? nullptr : &it->second;
    }
    /// The row of `id` was archived and not made again since.
    bool archived(std::uint64_t id) const
    {
        if (id / kBlock < kMaxBlocks) {
            const std::size_t b = id / kBlock;
            return b < m_blocks.size() && m_blocks[b] && m_blocks[b]->archived(id % kBlock);
        }
        return m_farArchived.contains(id);
    }
    /// Drops the row of `id` from memory, remembering that it was there.
    void archive(std::uint64_t id)
    {
        if (id / kBlock < kMaxBlocks) {
            const std::size_t b = id / kBlock;
            if (b < m_blocks.size() && m_blocks[b]) {
                const std::size_t before = m_blocks[b]->live();
                m_blocks[b]->archive(id % kBlock);
                m_live -= before - m_blocks[b]->live();
            }
            return;
        }
        if (m_far.erase(id))
            m_farArchived.insert(id);
    }
    /// Rows in memory (made and not archived).
    std::size_t live() const { return m_live + m_far.size(); }
    void clear()
    {
        m_blocks.clear();
        m_far.clear();
        m_farArchived.clear();
        m_live = 0;
    }

private:
    std::vector<std::unique_ptr<Block>> m_blocks;
    std::size_t m_live = 0; ///< in m_blocks
    std::unordered_map<std::uint64_t, Row> m_far;
    std::set<std::uint64_t> m_farArchived;
};

/// Task ids [lo, hi) that a fold is limited to (a backlog is folded a range at a time).
struct IdRange
{
    std::uint64_t lo = 0;
    std::uint64_t hi = UINT64_MAX;
    bool contains(std::uint64_t id) const { return id >= lo && id < hi; }
};

/// The session a Transition event names as the one that computed its cached value (its
/// note "from cache, session N"; 0 if unknown), or -1 for any other event.
std::int64_t cacheHitSessionOf(const Event &e);

struct SessionRows
{
    SessionRows(Client &client, const RecorderOptions &options);

    void apply(const Event &e);
    /// A transition of `task` (what a Transition event says, as the recorder queues it).
    void applyStep(std::uint64_t task, const Step &step);
    /// A finished attempt of `task` (ExecutionFinished).
    void applyRun(std::uint64_t task, const AttemptRecord &run);
    /// `task` was served from the result cache with a value computed in `session` (the note
    /// of its transition to memory; 0 if the session is unknown).
    void applyCacheHit(std::uint64_t task, std::int64_t session);
    void apply(TrackItem &item) { apply(item, IdRange{}); }
    /// Only the futures of tasks in `range` (taken from `item`; the rest stay).
    void apply(TrackItem &item, const IdRange &range);
    /// The tasks of a TasksAdded event that are in `range`.
    void applyTasksAdded(const Event &e, const IdRange &range);
    /// A tracked task whose events have come since is seen. At a flush (`everything`) every
    /// event so far has come (flush() and finish() deliver them first): one with none ran
    /// before the recording started, and its future tells the outcome.
    void settleUnseen(bool everything);
    /// Key and function from its future if no TasksAdded came.
    void identify(Row &r);
    /// Something is dirty.
    bool changed() const;
    /// A written row that no event is likely to change again leaves memory (RowTable).
    void archiveIfDone(std::uint64_t id, const Row &r);

    Client &client;
    std::shared_ptr<FunctionRegistry> registry;
    const RecorderOptions &options;

    RowTable rows;
    std::vector<std::uint64_t> dirty;  ///< rows changed since they were last written
    std::vector<std::uint64_t> unseen; ///< tracked before any of their events came
    TrackParking parked;               ///< tracked, and no row yet
    /// Steps of archived rows not written yet: appended to the stored story as they are.
    std::vector<std::pair<std::uint64_t, Step>> storyAppends;
    /// Reads an archived row back from the database (set by the recorder once it writes).
    std::function<std::optional<TaskRecord>(std::uint64_t id)> load;
    std::vector<LogRecord> logs; ///< not written yet
    std::map<int, WorkerRecord> workers;
    std::set<int> dirtyWorkers;
    std::set<std::string> seenFunctions;
    std::set<std::string> typeNames; ///< the result types rows point to
    std::map<std::pair<std::string, std::string>, PluginUse> plugins; ///< (name, path)
    std::set<std::pair<std::string, std::string>> dirtyPlugins;

private:
    Row &row(std::uint64_t id);
    /// A tracked future becomes part of its row.
    void adopt(std::uint64_t id,
               Row &r,
               Future future,
               const std::shared_ptr<const std::string> &optionsJson);
    Row &restore(std::uint64_t id);
    void markDirty(std::uint64_t id, Row &r);
    void takeStateFromFuture(Row &r);
    void capture(Row &r);
    void notePlugin(const std::string &function);
};

} // namespace taskbench::history
