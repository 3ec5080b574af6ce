// Making a recorded task ready to run again (see replaycall.h).
#include "taskbench/history/replaycall.h"

#include "filehash_p.h"

#include "taskbench/valuecodec.h"

#include <map>

namespace taskbench::history {

namespace {

/// Replaces each future reference inside v by the stored result of that task; false and
/// *error when one has none.
bool resolveRefs(Value &v,
                 const std::map<std::string, const TaskRecord *> &byKey,
                 std::string *error)
{
    if (v.isRef()) {
        const std::string key = v.toRef().key;
        const auto it = byKey.find(key);
        if (it == byKey.end() || !it->second->resultStored) {
            *error = "an argument is the result of task " + key
                     + (it == byKey.end() ? ", which is not in the session"
                                          : ", whose value the history did not store (too large, "
                                            "or it did not finish)");
            return false;
        }
        std::optional<Value> value = fromJson(it->second->resultJson);
        if (!value) {
            *error = "the recorded result of task " + key + " is unreadable";
            return false;
        }
        v = std::move(*value);
        return true;
    }
    if (v.isList()) {
        for (Value &item : v.toList())
            if (!resolveRefs(item, byKey, error))
                return false;
    } else if (v.isMap()) {
        for (auto &[k, item] : v.toMap())
            if (!resolveRefs(item, byKey, error))
                return false;
    }
    return true;
}

} // namespace

std::optional<ReplayCall> planReplayCall(HistoryStore &store,
                                         const std::string &key,
                                         std::int64_t session,
                                         std::string *error)
{
    std::string why;
    auto fail = [&](std::string message) -> std::optional<ReplayCall> {
        if (error)
            *error = std::move(message);
        return std::nullopt;
    };
    if (session > 0 && !store.session(session))
        return fail("no session " + std::to_string(session) + " in " + store.path());
    TaskQuery q;
    q.session = session;
    q.key = key; // a substring match: the exact one is picked below
    const TaskRecord *found = nullptr;
    std::vector<TaskRecord> matches = store.tasks(q);
    for (const TaskRecord &t : matches) // ordered by session: the newest one wins
        if (t.key == key)
            found = &t;
    if (!found)
        return fail("no task with key '" + key + "' in "
                    + (session > 0 ? "session " + std::to_string(session) : store.path()));
    const TaskRecord task = *found;

    ReplayCall call;
    call.session = task.session;
    call.id = task.id;
    call.key = task.key;
    call.function = task.function;
    call.attempts = task.attempts;
    call.recordedStatus = task.status;
    if (!task.errorType.empty() || !task.errorMessage.empty())
        call.recordedError = task.errorType + ": " + task.errorMessage;
    const std::string where = "task " + key + " (session " + std::to_string(task.session) + "): ";

    const PluginUse *plugin = nullptr;
    const std::vector<PluginUse> plugins = store.plugins(task.session);
    for (const PluginUse &p : plugins)
        for (const std::string &f : p.functions)
            if (f == task.function)
                plugin = &p;
    if (!plugin)
        return fail(where + "the session recorded no plugin with function " + task.function);
    const std::string hash = fileSha256(plugin->path);
    if (hash.empty())
        return fail(where + "cannot read its plugin file " + plugin->path);
    if (!plugin->hash.empty() && hash != plugin->hash)
        return fail(where + "its plugin file " + plugin->path
                    + " changed since the session (SHA-256 " + hash.substr(0, 12) + "..., recorded "
                    + plugin->hash.substr(0, 12)
                    + "...): rebuild the recorded version to replay the same code");
    call.pluginPath = plugin->path;

    if (task.argsJson.empty())
        return fail(where + "its arguments were not recorded");
    std::optional<Value> args = fromJson(task.argsJson, &why);
    if (!args || !args->isList())
        return fail(where + "its recorded arguments are unreadable"
                    + (why.empty() ? std::string() : ": " + why));
    if (args->containsRef()) {
        TaskQuery all;
        all.session = task.session;
        const std::vector<TaskRecord> tasks = store.tasks(all);
        std::map<std::string, const TaskRecord *> byKey;
        for (const TaskRecord &t : tasks)
            byKey[t.key] = &t;
        if (!resolveRefs(*args, byKey, &why))
            return fail(where + why);
    }
    call.args = std::move(args->toList());
    return call;
}

} // namespace taskbench::history
