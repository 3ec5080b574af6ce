// The task graph model: applies event batches in O(events) and builds the displayed graph
// (task level, or per group above the threshold) in O(tasks + dependencies).
#include "graphmodel.h"

#include <algorithm>
#include <unordered_map>

namespace taskbench::inspect {

namespace {
// The engine's note on a transition to erred caused by a failed dependency (engine.cpp).
constexpr std::string_view kDependencyFailed = "dependency failed";
} // namespace

void GraphModel::grow(std::uint32_t slot)
{
    if (slot < m_state.size())
        return;
    const std::size_t n = std::size_t(slot) + 1;
    m_state.resize(n, std::uint8_t(TaskState::Released));
    m_error.resize(n, std::uint8_t(ErrorKind::None));
    m_status.resize(n, std::uint8_t(NodeStatus::Pending));
    m_alive.resize(n, 0);
    m_attempt.resize(n, 0);
    m_depBegin.resize(n, 0);
    m_depCount.resize(n, 0);
    m_withDepsListed.resize(n, 0);
    m_taskDirty.resize(n, 0);
}

GraphModel::Group &GraphModel::groupOf(std::uint32_t slot)
{
    const std::uint32_t g = m_catalog.group(slot);
    if (g >= m_groups.size()) {
        m_groups.resize(std::size_t(g) + 1);
        m_groupDirty.resize(m_groups.size(), 0);
    }
    return m_groups[g];
}

void GraphModel::markTask(std::uint32_t slot)
{
    if (!m_taskDirty[slot]) {
        m_taskDirty[slot] = 1;
        m_changes.tasks.push_back(slot);
    }
}

void GraphModel::markGroup(std::uint32_t group)
{
    if (!m_groupDirty[group]) {
        m_groupDirty[group] = 1;
        m_changes.groups.push_back(group);
    }
}

void GraphModel::setAlive(std::uint32_t slot, bool alive)
{
    if (bool(m_alive[slot]) == alive)
        return;
    m_alive[slot] = alive;
    Group &g = groupOf(slot);
    const auto s = m_status[slot];
    if (alive) {
        ++m_aliveCount;
        ++g.alive;
        ++g.counts[s];
        ++m_totals[s];
    } else {
        --m_aliveCount;
        --g.alive;
        --g.counts[s];
        --m_totals[s];
    }
    markGroup(m_catalog.group(slot));
    m_changes.structural = true;
}

void GraphModel::setStatus(std::uint32_t slot, NodeStatus status)
{
    const auto s = std::uint8_t(status);
    if (m_status[slot] == s)
        return;
    if (m_alive[slot]) {
        Group &g = groupOf(slot);
        --g.counts[m_status[slot]];
        ++g.counts[s];
        --m_totals[m_status[slot]];
        ++m_totals[s];
        markGroup(m_catalog.group(slot));
    }
    m_status[slot] = s;
    markTask(slot);
}

std::uint32_t GraphModel::addTask(std::uint64_t id,
                                  std::string_view key,
                                  const Event &e,
                                  std::span<const std::uint64_t> deps)
{
    const std::uint32_t known = m_catalog.slotOf(id);
    const std::uint32_t oldGroup = known == TaskCatalog::npos ? 0 : m_catalog.group(known);
    const bool wasAlive = known != TaskCatalog::npos && m_alive[known];
    if (wasAlive)
        setAlive(known, false); // re-announced: take it out of its old group's counts
    const std::uint32_t slot = m_catalog.add(id, key, e.function(), e.group());
    grow(slot);
    Group &g = groupOf(slot);
    if (known == TaskCatalog::npos || m_catalog.group(slot) != oldGroup) {
        g.members.push_back(slot);
        if (g.members.size() == 1)
            g.function = m_catalog.function(slot);
    }
    // Dependencies (known ones only: an unknown id was forgotten before we subscribed).
    m_depBegin[slot] = std::uint32_t(m_deps.size());
    std::uint32_t count = 0;
    for (std::uint64_t dep : deps) {
        const std::uint32_t d = m_catalog.slotOf(dep);
        if (d != TaskCatalog::npos && d != slot) {
            m_deps.push_back(d);
            ++count;
        }
    }
    m_depCount[slot] = count;
    if (count > 0 && !m_withDepsListed[slot]) {
        m_withDepsListed[slot] = 1;
        m_withDeps.push_back(slot);
    }
    m_state[slot] = std::uint8_t(e.to);
    m_error[slot] = std::uint8_t(ErrorKind::None);
    m_status[slot] = std::uint8_t(nodeStatusOf(e.to, ErrorKind::None));
    setAlive(slot, true);
    markTask(slot);
    m_changes.structural = true;
    return slot;
}

std::uint32_t GraphModel::ensureTask(std::uint64_t id)
{
    std::uint32_t slot = m_catalog.slotOf(id);
    if (slot != TaskCatalog::npos)
        return slot;
    slot = m_catalog.ensure(id);
    grow(slot);
    Group &g = groupOf(slot);
    g.members.push_back(slot);
    if (g.members.size() == 1)
        g.function = m_catalog.function(slot);
    m_depBegin[slot] = std::uint32_t(m_deps.size());
    m_depCount[slot] = 0;
    return slot;
}

void GraphModel::applyEvents(const Event *begin, const Event *end)
{
    for (const Event *it = begin; it != end; ++it) {
        const Event &e = *it;
        switch (e.kind) {
        case EventKind::TaskAdded:
            addTask(e.task, e.key(), e, e.deps());
            break;
        case EventKind::TasksAdded: { // the engine's: one per submit
            const TaskList &tasks = *e.tasks();
            for (std::size_t i = 0; i < tasks.size(); ++i)
                addTask(tasks.id(i), tasks.key(i), e, tasks.deps(i));
            break;
        }
        case EventKind::Transition: {
            if (e.task == 0)
                break;
            const std::uint32_t slot = ensureTask(e.task);
            if (e.to == TaskState::Forgotten) {
                m_state[slot] = std::uint8_t(e.to);
                setAlive(slot, false);
                break;
            }
            ErrorKind err = ErrorKind::None;
            if (e.to == TaskState::Erred)
                err = e.text() == kDependencyFailed ? ErrorKind::Propagated : ErrorKind::Root;
            m_state[slot] = std::uint8_t(e.to);
            m_error[slot] = std::uint8_t(err);
            if (e.attempt > m_attempt[slot])
                m_attempt[slot] = std::uint16_t(std::min(e.attempt, 65535));
            setStatus(slot, nodeStatusOf(e.to, err));
            setAlive(slot, true);
            markTask(slot);
            break;
        }
        default:
            break;
        }
    }
}

GraphModel::Changes GraphModel::takeChanges()
{
    Changes out = std::move(m_changes);
    m_changes = Changes();
    for (std::uint32_t s : out.tasks)
        m_taskDirty[s] = 0;
    for (std::uint32_t g : out.groups)
        m_groupDirty[g] = 0;
    return out;
}

void GraphModel::clear()
{
    *this = GraphModel();
    m_changes.structural = true;
}

std::vector<std::uint32_t> GraphModel::groupMembers(std::uint32_t group) const
{
    std::vector<std::uint32_t> out;
    if (group >= m_groups.size())
        return out;
    out.reserve(m_groups[group].alive);
    for (std::uint32_t s : m_groups[group].members)
        if (m_alive[s] && m_catalog.group(s) == group)
            out.push_back(s);
    return out;
}

DisplayGraph GraphModel::buildDisplay(std::size_t threshold,
                                      const std::unordered_set<std::uint32_t> &expanded,
                                      std::size_t expandLimit) const
{
    // Work in proportion to the picture, not to the tasks: collapsed, the nodes are the
    // groups (and the members of the few open ones), and only tasks with dependencies can
    // make edges. A relayout during a 1,000,000-task map used to walk every task (~150 ms).
    DisplayGraph d;
    d.collapsed = m_aliveCount > threshold;
    std::vector<std::uint32_t> groupNode; ///< collapsed: each closed group's node
    std::unordered_map<std::uint32_t, std::uint32_t> taskNode; ///< tasks shown on their own
    if (!d.collapsed) {
        d.nodes.reserve(m_aliveCount);
        for (std::uint32_t s = 0; s < m_catalog.size(); ++s) {
            if (!m_alive[s])
                continue;
            taskNode.emplace(s, std::uint32_t(d.nodes.size()));
            d.nodes.push_back({DisplayNode::Kind::Task, s});
        }
    } else {
        groupNode.assign(m_groups.size(), TaskCatalog::npos);
        for (std::uint32_t g = 0; g < m_groups.size(); ++g) {
            const Group &group = m_groups[g];
            if (group.alive == 0)
                continue;
            if (!expanded.count(g) || group.alive > expandLimit) {
                groupNode[g] = std::uint32_t(d.nodes.size());
                d.nodes.push_back({DisplayNode::Kind::Group, g});
                continue;
            }
            for (std::uint32_t s : group.members) {
                if (!m_alive[s] || m_catalog.group(s) != g)
                    continue;
                taskNode.emplace(s, std::uint32_t(d.nodes.size()));
                d.nodes.push_back({DisplayNode::Kind::Task, s});
            }
        }
    }
    auto nodeOf = [&](std::uint32_t s) {
        if (!m_alive[s])
            return TaskCatalog::npos;
        if (d.collapsed) {
            const std::uint32_t g = groupNode[m_catalog.group(s)];
            if (g != TaskCatalog::npos)
                return g;
        }
        const auto it = taskNode.find(s);
        return it == taskNode.end() ? TaskCatalog::npos : it->second;
    };
    // Edges, merged between display nodes (a 100,000-task map feeding one reduction is one
    // edge with a count). Consecutive tasks usually hit the same pair: check that first.
    std::unordered_map<std::uint64_t, std::uint32_t> index;
    std::uint64_t lastKey = ~std::uint64_t(0);
    std::uint32_t lastEdge = 0;
    for (std::uint32_t s : m_withDeps) {
        const std::uint32_t to = nodeOf(s);
        if (to == TaskCatalog::npos)
            continue;
        for (std::uint32_t dep : dependencies(s)) {
            const std::uint32_t from = nodeOf(dep);
            if (from == TaskCatalog::npos || from == to)
                continue;
            const std::uint64_t key = (std::uint64_t(from) << 32) | to;
            if (key == lastKey) {
                ++d.edges[lastEdge].count;
                continue;
            }
            auto [it, added] = index.try_emplace(key, std::uint32_t(d.edges.size()));
            if (added)
                d.edges.push_back({from, to, 1});
            else
                ++d.edges[it->second].count;
            lastKey = key;
            lastEdge = it->second;
        }
    }
    std::sort(d.edges.begin(), d.edges.end(), [](const DisplayEdge &a, const DisplayEdge &b) {
        return a.from != b.from ? a.from < b.from : a.to < b.to;
    });
    return d;
}

std::vector<std::uint32_t> GraphModel::upstream(const std::vector<std::uint32_t> &seeds) const
{
    std::vector<std::uint8_t> seen(m_catalog.size(), 0);
    std::vector<std::uint32_t> stack;
    for (std::uint32_t s : seeds)
        if (s < seen.size() && !seen[s]) {
            seen[s] = 1;
            stack.push_back(s);
        }
    std::vector<std::uint32_t> out;
    while (!stack.empty()) {
        const std::uint32_t s = stack.back();
        stack.pop_back();
        for (std::uint32_t d : dependencies(s)) {
            if (seen[d])
                continue;
            seen[d] = 1;
            if (m_alive[d])
                out.push_back(d);
            stack.push_back(d);
        }
    }
    return out;
}

std::vector<std::uint32_t> GraphModel::downstream(const std::vector<std::uint32_t> &seeds) const
{
    // Dependents as a CSR built on demand: highlighting is rare, a reverse index kept up to
    // date on every batch would not be.
    const std::size_t n = m_catalog.size();
    std::vector<std::uint32_t> begin(n + 1, 0);
    for (std::uint32_t s = 0; s < n; ++s)
        for (std::uint32_t d : dependencies(s))
            ++begin[d + 1];
    for (std::size_t i = 0; i < n; ++i)
        begin[i + 1] += begin[i];
    std::vector<std::uint32_t> fill(begin.begin(), begin.end() - 1);
    std::vector<std::uint32_t> dependents(begin[n]);
    for (std::uint32_t s = 0; s < n; ++s)
        for (std::uint32_t d : dependencies(s))
            dependents[fill[d]++] = s;

    std::vector<std::uint8_t> seen(n, 0);
    std::vector<std::uint32_t> stack;
    for (std::uint32_t s : seeds)
        if (s < n && !seen[s]) {
            seen[s] = 1;
            stack.push_back(s);
        }
    std::vector<std::uint32_t> out;
    while (!stack.empty()) {
        const std::uint32_t s = stack.back();
        stack.pop_back();
        for (std::uint32_t i = begin[s]; i < begin[s + 1]; ++i) {
            const std::uint32_t t = dependents[i];
            if (seen[t])
                continue;
            seen[t] = 1;
            if (m_alive[t])
                out.push_back(t);
            stack.push_back(t);
        }
    }
    return out;
}

} // namespace taskbench::inspect
