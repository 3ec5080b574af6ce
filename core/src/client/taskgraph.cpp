// Graph files: parsing {"tasks": {...}, "outputs": [...]} into a TaskGraph, and ordering its
// tasks so that every task comes after the tasks its arguments refer to.
//
// The file is read with the Value JSON parser, so a task's arguments get exactly the
// meaning they have on the command line ({"$ref": ...} and {"$bytes": ...} included) and
// syntax errors carry a line and column. fromJson also checks the references and cycles:
// a graph it accepts can be submitted as it is.
#include "taskbench/client.h"
#include "taskbench/valuecodec.h"

#include <algorithm>
#include <functional>
#include <set>
#include <queue>

namespace taskbench {

namespace {

std::string quoted(const std::string &name)
{
    return "'" + name + "'";
}

bool checkFields(const Value::Map &object,
                 std::initializer_list<std::string_view> known,
                 const std::string &where,
                 std::string &error)
{
    for (const auto &entry : object) {
        if (std::find(known.begin(), known.end(), entry.first) == known.end()) {
            std::string list;
            for (std::string_view k : known)
                list += (list.empty() ? "" : ", ") + std::string(k);
            error = where + ": unknown field " + quoted(entry.first) + " (expected " + list + ")";
            return false;
        }
    }
    return true;
}

bool parseTask(const std::string &name, const Value &def, TaskGraph::Task &task, std::string &error)
{
    const std::string where = "task " + quoted(name);
    if (!def.isMap()) {
        error = where + ": must be an object, not " + std::string(def.kindName());
        return false;
    }
    const Value::Map &object = def.toMap();
    if (!checkFields(object, {"function", "args", "kwargs", "retries"}, where, error))
        return false;
    const auto function = object.find("function");
    if (function == object.end()) {
        error = where + ": missing field 'function'";
        return false;
    }
    if (!function->second.isString() || function->second.toString().empty()) {
        error = where + ": 'function' must be a non-empty string";
        return false;
    }
    task.function = function->second.toString();
    if (const auto args = object.find("args"); args != object.end()) {
        if (!args->second.isList()) {
            error = where + ": 'args' must be a list, not " + args->second.kindName();
            return false;
        }
        task.args = args->second.toList();
    }
    if (const auto kwargs = object.find("kwargs"); kwargs != object.end()) {
        if (!kwargs->second.isMap()) {
            error = where + ": 'kwargs' must be an object, not " + kwargs->second.kindName();
            return false;
        }
        task.kwargs = kwargs->second.toMap();
    }
    if (const auto retries = object.find("retries"); retries != object.end()) {
        if (!retries->second.isInt() || retries->second.toInt() < 0
            || retries->second.toInt() > 1000000) {
            error = where + ": 'retries' must be an integer from 0 to 1000000";
            return false;
        }
        task.retries = int(retries->second.toInt());
    }
    return true;
}

/// Calls fn(name) for every task name the task's arguments refer to.
void forEachDependency(const TaskGraph::Task &task,
                       const std::function<void(const std::string &)> &fn)
{
    for (const Value &arg : task.args)
        arg.forEachRef([&](const FutureRef &ref) { fn(ref.key); });
    for (const auto &entry : task.kwargs)
        entry.second.forEachRef([&](const FutureRef &ref) { fn(ref.key); });
}

} // namespace

std::optional<TaskGraph> TaskGraph::fromJson(std::string_view json, std::string *error)
{
    std::string message;
    const auto fail = [&](const std::string &text) -> std::optional<TaskGraph> {
        if (error)
            *error = "graph: " + text;
        return std::nullopt;
    };
    const std::optional<Value> doc = taskbench::fromJson(json, &message);
    if (!doc)
        return fail("malformed JSON: " + message);
    if (!doc->isMap())
        return fail(std::string("the top level must be an object, not ") + doc->kindName());
    const Value::Map &top = doc->toMap();
    if (!checkFields(top, {"tasks", "outputs"}, "top level", message))
        return fail(message);
    const auto tasks = top.find("tasks");
    if (tasks == top.end())
        return fail("missing field 'tasks'");
    if (!tasks->second.isMap())
        return fail(std::string("'tasks' must be an object of named tasks, not ")
                    + tasks->second.kindName());
    if (tasks->second.toMap().empty())
        return fail("'tasks' is empty");

    TaskGraph graph;
    for (const auto &[name, def] : tasks->second.toMap()) {
        if (name.empty())
            return fail("a task has an empty name");
        TaskGraph::Task task;
        if (!parseTask(name, def, task, message))
            return fail(message);
        graph.tasks.emplace(name, std::move(task));
    }

    if (const auto outputs = top.find("outputs"); outputs != top.end()) {
        if (!outputs->second.isList())
            return fail(std::string("'outputs' must be a list of task names, not ")
                        + outputs->second.kindName());
        std::set<std::string, std::less<>> seen;
        for (const Value &item : outputs->second.toList()) {
            if (!item.isString())
                return fail(std::string("'outputs' must hold task names (strings), found ")
                            + item.kindName());
            const std::string &name = item.toString();
            if (!graph.tasks.contains(name))
                return fail("output " + quoted(name) + " names no task in the graph");
            if (!seen.insert(name).second)
                return fail("output " + quoted(name) + " is listed twice");
            graph.outputs.push_back(name);
        }
    } else {
        // "outputs" left out means every task; spelling that out spares each consumer a rule.
        for (const auto &entry : graph.tasks)
            graph.outputs.push_back(entry.first);
    }

    if (!graph.topologicalOrder(&message))
        return fail(message);
    return graph;
}

std::optional<std::vector<std::string>> TaskGraph::topologicalOrder(std::string *error) const
{
    const auto fail = [&](const std::string &text) -> std::optional<std::vector<std::string>> {
        if (error)
            *error = text;
        return std::nullopt;
    };
    // Index tasks in name order (std::map order), so "smallest index" means "first name".
    std::vector<const std::string *> names;
    std::vector<const Task *> defs;
    names.reserve(tasks.size());
    defs.reserve(tasks.size());
    for (const auto &[name, task] : tasks) {
        names.push_back(&name);
        defs.push_back(&task);
    }
    const auto indexOf = [&](const std::string &name) -> std::ptrdiff_t {
        const auto it = std::lower_bound(
            names.begin(), names.end(), name, [](const std::string *a, const std::string &b) {
                return *a < b;
            });
        return (it != names.end() && **it == name) ? it - names.begin() : -1;
    };

    // deps[i]: the distinct tasks task i needs; dependents: the reverse edges.
    const std::size_t n = names.size();
    std::vector<std::vector<std::size_t>> deps(n);
    std::vector<std::vector<std::size_t>> dependents(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string dangling;
        forEachDependency(*defs[i], [&](const std::string &key) {
            const std::ptrdiff_t j = indexOf(key);
            if (j < 0) {
                if (dangling.empty())
                    dangling = key;
                return;
            }
            deps[i].push_back(std::size_t(j));
        });
        if (!dangling.empty())
            return fail("task " + quoted(*names[i]) + " refers to " + quoted(dangling)
                        + " ({\"$ref\": \"" + dangling + "\"}), which names no task in the graph");
        std::sort(deps[i].begin(), deps[i].end());
        deps[i].erase(std::unique(deps[i].begin(), deps[i].end()), deps[i].end());
        for (const std::size_t j : deps[i])
            dependents[j].push_back(i);
    }

    // Kahn's algorithm; the min-heap breaks ties by name, so the order is deterministic.
    std::vector<std::size_t> pending(n);
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t i = 0; i < n; ++i) {
        pending[i] = deps[i].size();
        if (pending[i] == 0)
            ready.push(i);
    }
    std::vector<std::string> order;
    order.reserve(n);
    while (!ready.empty()) {
        const std::size_t i = ready.top();
        ready.pop();
        order.push_back(*names[i]);
        for (const std::size_t d : dependents[i])
            if (--pending[d] == 0)
                ready.push(d);
    }
    if (order.size() == n)
        return order;

    // Every task left over still waits on another left-over task, so following the first
    // such dependency from the first left-over name must come back to a task already seen.
    std::size_t at = 0;
    while (pending[at] == 0)
        ++at;
    std::vector<std::size_t> path;
    std::vector<std::ptrdiff_t> position(n, -1);
    while (position[at] < 0) {
        position[at] = std::ptrdiff_t(path.size());
        path.push_back(at);
        const auto next = std::find_if(
            deps[at].begin(), deps[at].end(), [&](std::size_t j) { return pending[j] > 0; });
        at = *next;
    }
    // A long cycle (a ring of 100,000 tasks) is named by its start and how it closes: the
    // message is read by a person, not parsed.
    constexpr std::size_t kShown = 10;
    const auto first = std::size_t(position[at]);
    const std::size_t length = path.size() - first;
    const std::size_t shown = length > kShown + 1 ? kShown : length;
    std::string cycle;
    for (std::size_t k = first; k < first + shown; ++k)
        cycle += *names[path[k]] + " -> ";
    if (shown < length)
        cycle += "... (" + std::to_string(length - shown) + " more) ... -> ";
    cycle += *names[at];
    return fail("dependency cycle: " + cycle + " (each task needs the next)");
}

} // namespace taskbench
