// Planning and submitting re-runs of recorded tasks (see rerun.h).
#include "taskbench/history/rerun.h"

#include "taskbench/valuecodec.h"

#include <algorithm>
#include <map>
#include <set>

namespace taskbench::history {

RerunPlan planRerun(HistoryStore &store,
                    std::int64_t session,
                    const std::vector<std::uint64_t> &ids,
                    bool failedOnly,
                    const FunctionRegistry &registry)
{
    RerunPlan plan;
    TaskQuery all;
    all.session = session;
    std::map<std::uint64_t, TaskRecord> tasks;
    for (TaskRecord &t : store.tasks(all))
        tasks.emplace(t.id, std::move(t));
    if (tasks.empty()) {
        plan.problems.push_back("session " + std::to_string(session) + " has no recorded tasks");
        return plan;
    }

    std::vector<std::uint64_t> wanted;
    if (!ids.empty()) {
        for (std::uint64_t id : ids) {
            if (!tasks.count(id))
                plan.problems.push_back("session " + std::to_string(session) + " has no task "
                                        + std::to_string(id));
            else
                wanted.push_back(id);
        }
    } else {
        for (const auto &[id, t] : tasks)
            if (!failedOnly || t.status == "error")
                wanted.push_back(id);
    }
    if (wanted.empty() && plan.problems.empty())
        plan.problems.push_back(failedOnly
                                    ? "session " + std::to_string(session) + " has no failed tasks"
                                    : "nothing to re-run");

    // What the wanted tasks depend on runs again too; ids grow in submission order, and a
    // dependency is always submitted before its dependents.
    std::set<std::uint64_t> closure;
    std::vector<std::uint64_t> stack = wanted;
    while (!stack.empty()) {
        const std::uint64_t id = stack.back();
        stack.pop_back();
        const auto it = tasks.find(id);
        if (it == tasks.end() || !closure.insert(id).second)
            continue;
        for (std::uint64_t dep : it->second.deps)
            stack.push_back(dep);
    }

    std::map<std::string, const PluginUse *> pluginOf; // function -> recorded plugin
    const std::vector<PluginUse> plugins = store.plugins(session);
    for (const PluginUse &p : plugins)
        for (const std::string &f : p.functions)
            pluginOf[f] = &p;

    for (std::uint64_t id : closure) {
        const TaskRecord &t = tasks.at(id);
        const std::string task = "task " + t.key + ": ";
        const auto recorded = pluginOf.find(t.function);
        const PluginUse *p = recorded != pluginOf.end() ? recorded->second : nullptr;
        const FunctionPtr fn = registry.find(t.function);
        if (!fn) {
            plan.problems.push_back(task + "function '" + t.function + "' is not loaded"
                                    + (p && !p->name.empty()
                                           ? " (the session used plugin '" + p->name + "' "
                                                 + p->version + " from " + p->path
                                                 + "; load it to re-run)"
                                           : std::string()));
            continue;
        }
        if (p && p->name == fn->plugin && p->version != fn->pluginVersion) {
            plan.problems.push_back(task + "plugin '" + p->name + "' is version "
                                    + fn->pluginVersion + " now; the session used version "
                                    + p->version);
            continue;
        }
        if (t.argsJson.empty()) {
            plan.problems.push_back(task + "its arguments were not recorded");
            continue;
        }
        std::string error;
        std::optional<Value> args = fromJson(t.argsJson, &error);
        if (!args || !args->isList()) {
            plan.problems.push_back(task + "its recorded arguments are unreadable"
                                    + (error.empty() ? std::string() : ": " + error));
            continue;
        }
        RerunCall call;
        call.recordedId = id;
        call.key = t.key;
        call.function = t.function;
        call.args = std::move(args->toList());
        // Recorded arguments are complete (keyword arguments already bound). The recorded
        // key keeps references between re-run tasks valid.
        call.options.key = t.key;
        call.options.group = t.group;
        if (std::optional<Value> o = fromJson(t.optionsJson.empty() ? "{}" : t.optionsJson);
            o && o->isMap()) {
            const Value::Map &m = o->toMap();
            if (auto it = m.find("retries"); it != m.end() && it->second.isInt())
                call.options.retries = int(it->second.toInt());
            if (auto it = m.find("priority"); it != m.end() && it->second.isInt())
                call.options.priority = int(it->second.toInt());
            if (auto it = m.find("pure"); it != m.end() && it->second.isBool())
                call.options.pure = it->second.toBool();
            if (auto it = m.find("timeout_ms"); it != m.end() && it->second.isInt())
                call.options.timeout = std::chrono::milliseconds(it->second.toInt());
        }
        plan.calls.push_back(std::move(call));
    }
    return plan;
}

std::vector<Future> submitRerun(Client &client, const RerunPlan &plan)
{
    std::vector<Future> out;
    out.reserve(plan.calls.size());
    for (const RerunCall &c : plan.calls)
        out.push_back(client.submit(c.function, c.args, c.options));
    return out;
}

} // namespace taskbench::history
