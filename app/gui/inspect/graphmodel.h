// The task graph as plain data, fed by engine event batches: per task its state, how it
// erred (root cause or propagated), its dependencies, its group; per group live counts per
// display status. Building what the view shows (every task, or one node per task group above
// a threshold) is a pure function of this model, so it is tested without widgets.
//
// GUI thread only (the view owns it); everything is vectors indexed by TaskCatalog slot.
#pragma once

#include "inspectstyle.h"
#include "taskcatalog.h"

#include "taskbench/events.h"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace taskbench::inspect {

/// One node of what the view shows: a task, or a whole task group collapsed into one node.
struct DisplayNode
{
    enum class Kind : std::uint8_t { Task, Group };
    Kind kind = Kind::Task;
    std::uint32_t index = 0; ///< task slot or group index
    bool operator==(const DisplayNode &) const = default;
};

/// A dependency between display nodes; `count` task-level edges were merged into it.
struct DisplayEdge
{
    std::uint32_t from = 0; ///< display node index (the dependency)
    std::uint32_t to = 0;   ///< display node index (the dependent)
    std::uint32_t count = 1;
    bool operator==(const DisplayEdge &o) const { return from == o.from && to == o.to; }
};

struct DisplayGraph
{
    std::vector<DisplayNode> nodes;
    std::vector<DisplayEdge> edges; ///< sorted by (from, to)
    bool collapsed = false;         ///< above the threshold: groups are nodes
    /// Same nodes and edges (counts aside): no new layout needed.
    bool sameStructure(const DisplayGraph &o) const
    {
        return collapsed == o.collapsed && nodes == o.nodes && edges == o.edges;
    }
};

using StatusCounts = std::array<std::uint32_t, kNodeStatusCount>;

class GraphModel
{
public:
    /// What changed since the last takeChanges(): tasks and groups to recolour, and whether the
    /// structure (tasks added or forgotten) changed.
    struct Changes
    {
        bool structural = false;
        std::vector<std::uint32_t> tasks;  ///< slots
        std::vector<std::uint32_t> groups; ///< group indexes
    };

    void applyEvents(const Event *begin, const Event *end);
    void applyEvents(const EventBatch &batch)
    {
        applyEvents(batch.data(), batch.data() + batch.size());
    }
    Changes takeChanges();
    void clear();

    const TaskCatalog &catalog() const { return m_catalog; }
    /// Tasks shown (added and not forgotten).
    std::size_t taskCount() const { return m_aliveCount; }
    bool alive(std::uint32_t slot) const { return m_alive[slot] != 0; }
    TaskState state(std::uint32_t slot) const { return TaskState(m_state[slot]); }
    ErrorKind errorKind(std::uint32_t slot) const { return ErrorKind(m_error[slot]); }
    NodeStatus status(std::uint32_t slot) const { return NodeStatus(m_status[slot]); }
    int attempts(std::uint32_t slot) const { return m_attempt[slot]; }
    std::span<const std::uint32_t> dependencies(std::uint32_t slot) const
    {
        return {m_deps.data() + m_depBegin[slot], m_depCount[slot]};
    }

    std::size_t groupCount() const { return m_groups.size(); }
    std::uint32_t groupSize(std::uint32_t group) const { return m_groups[group].alive; }
    const StatusCounts &groupCounts(std::uint32_t group) const { return m_groups[group].counts; }
    /// The group's function (of its first task).
    std::uint32_t groupFunction(std::uint32_t group) const { return m_groups[group].function; }
    /// Live members, in submission order.
    std::vector<std::uint32_t> groupMembers(std::uint32_t group) const;
    /// Counts over all live tasks.
    const StatusCounts &totals() const { return m_totals; }

    /// What to show: every task while there are at most `threshold`, otherwise one node per
    /// group, except groups in `expanded` of at most `expandLimit` tasks, shown task by task.
    DisplayGraph buildDisplay(std::size_t threshold,
                              const std::unordered_set<std::uint32_t> &expanded = {},
                              std::size_t expandLimit = 2000) const;

    /// Every task the given ones depend on, transitively (the seeds excluded).
    std::vector<std::uint32_t> upstream(const std::vector<std::uint32_t> &seeds) const;
    /// Every task that depends on the given ones, transitively (the seeds excluded).
    std::vector<std::uint32_t> downstream(const std::vector<std::uint32_t> &seeds) const;

private:
    struct Group
    {
        StatusCounts counts{};
        std::uint32_t alive = 0;
        std::uint32_t function = 0;
        std::vector<std::uint32_t> members; ///< every slot ever added (dead ones filtered out)
    };

    /// A task announced by `e` (a TaskAdded, or one of a TasksAdded's list).
    std::uint32_t addTask(std::uint64_t id,
                          std::string_view key,
                          const Event &e,
                          std::span<const std::uint64_t> deps);
    std::uint32_t ensureTask(std::uint64_t id);
    void grow(std::uint32_t slot);
    void setAlive(std::uint32_t slot, bool alive);
    void setStatus(std::uint32_t slot, NodeStatus status);
    void markTask(std::uint32_t slot);
    void markGroup(std::uint32_t group);
    Group &groupOf(std::uint32_t slot);

    TaskCatalog m_catalog;
    gui::ChunkedVector<std::uint8_t> m_state;
    gui::ChunkedVector<std::uint8_t> m_error;
    gui::ChunkedVector<std::uint8_t> m_status;
    gui::ChunkedVector<std::uint8_t> m_alive;
    gui::ChunkedVector<std::uint16_t> m_attempt;
    gui::ChunkedVector<std::uint32_t> m_depBegin;
    gui::ChunkedVector<std::uint32_t> m_depCount;
    std::vector<std::uint32_t> m_deps;                 ///< contiguous: deps(slot) is a span of it
    gui::ChunkedVector<std::uint32_t> m_withDeps;      ///< slots that have dependencies
    gui::ChunkedVector<std::uint8_t> m_withDepsListed; ///< by slot: in m_withDeps
    std::vector<Group> m_groups;
    std::size_t m_aliveCount = 0;
    StatusCounts m_totals{};

    // Change tracking, deduplicated through the flags.
    gui::ChunkedVector<std::uint8_t> m_taskDirty;
    std::vector<std::uint8_t> m_groupDirty;
    Changes m_changes;
};

} // namespace taskbench::inspect
