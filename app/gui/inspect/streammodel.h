// The task stream as plain data: one lane per (worker, thread), each a vector of executions
// sorted by start time (a thread runs one task at a time, so a lane is a sorted, mostly
// non-overlapping sequence and appending is the common case), plus the executions that were
// assigned but have not finished yet.
//
// The engine reports an assignment (ExecutionStarted: worker and time, no thread) and, later,
// the finish (thread, real start, end, ok). A worker may hold more assignments than threads,
// so at most `threads` of them are shown running, on free lanes, starting when the lane
// freed up; the finish event then records the truth. Painting asks visibleRange() (binary
// search) and mergedRuns() (sub-pixel executions merged), so a frame costs O(visible), not
// O(executions).
#pragma once

#include "chunkedvector.h"

#include "taskcatalog.h"

#include "taskbench/events.h"

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace taskbench::inspect {

struct Execution
{
    enum Flag : std::uint8_t {
        Failed = 1,      ///< finished with ok = false
        Interrupted = 2, ///< never finished: cancelled, worker died or removed
        /// Its priority was changed after submit (raised, "run next"): marked in the stream,
        /// so a user sees the tasks they steered run where they asked.
        Reprioritised = 4,
    };
    std::int64_t start = 0; ///< wall-clock µs
    std::int64_t end = 0;
    std::uint64_t task = 0;
    std::uint32_t function = 0; ///< TaskCatalog function index
    std::uint16_t attempt = 0;
    std::uint8_t flags = 0;
    /// The attempt's peak memory as a class: 1 + log2 of its KiB (2^(m-1) KiB up to twice
    /// that), 0 when unknown (thread workers). Fits the struct's spare byte.
    std::uint8_t memory = 0;
    std::int64_t duration() const { return end - start; }
};

/// The memory class of a peak (Execution::memory), and the smallest peak of a class.
std::uint8_t memoryClassOf(std::int64_t peakBytes);
std::int64_t memoryClassBytes(std::uint8_t memoryClass);

struct Lane
{
    int worker = 0;
    int thread = 0;
    /// Sorted by start; in blocks, so a lane of a million executions grows without copying.
    gui::ChunkedVector<Execution> executions;
    std::int64_t maxDuration = 0; ///< bounds the backwards search of a visible window
    bool removed = false;         ///< the worker left the cluster
};

/// An assigned execution shown as running (growing until its finish arrives).
struct RunningExecution
{
    std::uint64_t task = 0;
    std::uint32_t function = 0;
    int worker = 0;
    int thread = -1;          ///< the lane shown; the real thread is known at the finish
    std::int64_t startUs = 0; ///< estimated: assignment, or when the lane freed up
    std::uint16_t attempt = 0;
};

/// A rectangle to paint after merging: pixel columns [x0, x1).
struct StreamRun
{
    double x0 = 0;
    double x1 = 0;
    std::uint32_t function = 0; ///< of the longest member
    std::uint8_t flags = 0;     ///< union of the members' flags
    std::uint32_t count = 1;    ///< executions merged into it
    std::uint8_t memory = 0;    ///< the members' largest memory class
};

class StreamModel
{
public:
    void applyEvents(const Event *begin, const Event *end);
    void applyEvents(const EventBatch &batch)
    {
        applyEvents(batch.data(), batch.data() + batch.size());
    }
    void clear();

    const TaskCatalog &catalog() const { return m_catalog; }
    /// Sorted by (worker, thread).
    const std::vector<Lane> &lanes() const { return m_lanes; }
    int laneOf(int worker, int thread) const;
    std::string workerName(int worker) const;

    /// Assigned executions currently shown running (at most `threads` per worker).
    std::vector<RunningExecution> running() const;
    std::size_t runningCount() const { return m_assigned.size(); }
    std::size_t executionCount() const { return m_executionCount; }
    bool isEmpty() const { return m_executionCount == 0 && m_assigned.empty(); }
    std::int64_t firstUs() const { return m_firstUs; }
    std::int64_t lastUs() const { return m_lastUs; }
    /// Recorded executions per function (TaskCatalog function index).
    const std::vector<std::uint32_t> &executionsPerFunction() const { return m_perFunction; }
    /// Whether any recorded execution is Execution::Reprioritised (the legend says so).
    bool hasReprioritised() const { return m_reprioritisedShown; }
    /// Bumped on every change (views repaint when it moves).
    std::uint64_t version() const { return m_version; }

    /// Indexes [first, last) of the lane's executions that overlap [t0, t1).
    std::pair<std::size_t, std::size_t>
    visibleRange(int lane, std::int64_t t0, std::int64_t t1) const;
    /// Appends the rectangles to paint for [t0, t1) at `usPerPx`: executions at least a pixel
    /// wide as they are, thinner neighbours (gaps under a pixel) merged into one run.
    void mergedRuns(int lane,
                    std::int64_t t0,
                    std::int64_t t1,
                    double usPerPx,
                    std::vector<StreamRun> &out) const;
    /// The execution under time t (or within `toleranceUs`), nullptr if none.
    const Execution *executionAt(int lane, std::int64_t t, std::int64_t toleranceUs) const;
    /// Every recorded execution of a task: (lane, index).
    std::vector<std::pair<int, std::size_t>> executionsOf(std::uint64_t task) const;

private:
    struct Worker
    {
        int threads = 1;
        std::string name;
        std::vector<std::int64_t> freeAt; ///< per thread: end of its last execution
        std::vector<std::uint64_t> shown; ///< per thread: task shown running, 0 if none
        std::deque<std::uint64_t> queue;  ///< assigned, not shown yet (lazy removal)
    };
    struct Assigned
    {
        int worker = 0;
        int thread = -1;
        std::int64_t assignedUs = 0;
        std::int64_t startUs = 0;
        std::uint32_t function = 0;
        std::uint16_t attempt = 0;
    };

    Worker &worker(int id);
    void setThreads(int workerId, int threads);
    int ensureLane(int worker, int thread);
    void addExecution(int lane, const Execution &e);
    void fillSlots(int workerId);
    void unassign(std::uint64_t task, std::int64_t endUs, bool interrupted);

    TaskCatalog m_catalog;
    std::vector<Lane> m_lanes;
    std::map<std::pair<int, int>, int> m_laneIndex;
    std::map<int, Worker> m_workers;
    std::unordered_map<std::uint64_t, Assigned> m_assigned;
    std::unordered_set<std::uint64_t> m_reprioritised; ///< PriorityChanged seen for these
    bool m_reprioritisedShown = false;
    std::size_t m_executionCount = 0;
    std::vector<std::uint32_t> m_perFunction;
    std::int64_t m_firstUs = 0;
    std::int64_t m_lastUs = 0;
    std::uint64_t m_version = 0;
};

} // namespace taskbench::inspect
