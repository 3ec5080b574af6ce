// The table of task functions the engine can run, by qualified name ("plugin.function").
//
// Functions come from plugins (the loader registers them) or from the host program itself
// (tests, embedders). An entry keeps its plugin library loaded for as long as anyone holds
// it, so a running task never outlives its code.
#pragma once

#include "taskbench/sdk.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace taskbench {

struct FunctionInfo
{
    std::string qualifiedName; ///< "plugin.function"
    std::string plugin;        ///< plugin name ("" for host functions)
    std::string pluginVersion;
    std::string pluginPath; ///< library file, for process workers and display
    std::string name;       ///< function name inside the plugin
    std::string doc;
    std::vector<sdk::ParamSpec> params;
    std::string resultType;
    /// Served from the result cache across runs (sdk::FunctionTraits::cacheable).
    bool cacheable = true;
    /// Keeps the plugin library loaded. Declared before `invoke` so that it is destroyed
    /// after it: the invoker's code lives in the library.
    std::shared_ptr<void> library;
    sdk::Invoker invoke;

    /// "inc(x: int) -> int"
    std::string signature() const;
};

using FunctionPtr = std::shared_ptr<const FunctionInfo>;

class FunctionRegistry
{
public:
    /// Adds or replaces a function (replacing is how a rebuilt plugin is reloaded; tasks
    /// already running keep the old entry alive).
    void add(FunctionInfo info);
    /// Registers a host function (no plugin) under `qualifiedName`, e.g. "test.slow".
    template <class F>
    void addFunction(const std::string &qualifiedName,
                     F fn,
                     std::vector<sdk::Param> params,
                     std::string doc = {})
    {
        sdk::Plugin builder("", "");
        builder.def(qualifiedName, fn, std::move(params), std::move(doc));
        sdk::Manifest m = builder.take();
        FunctionInfo info;
        info.qualifiedName = qualifiedName;
        info.name = qualifiedName;
        info.doc = m.functions[0].doc;
        info.params = std::move(m.functions[0].params);
        info.resultType = m.functions[0].resultType;
        info.invoke = std::move(m.functions[0].invoke);
        add(std::move(info));
    }
    void removePlugin(const std::string &plugin);
    FunctionPtr find(std::string_view qualifiedName) const;
    std::vector<FunctionPtr> all() const; ///< sorted by qualified name

    /// Checks literal arguments against the parameters: arity (filling defaults) and the
    /// type of every literal (future references are checked when the task runs). Returns
    /// the complete argument list, or nullopt with *error set ("tutorial.inc: parameter 'x':
    /// expected int, got str").
    static std::optional<std::vector<Value>> bindArguments(const FunctionInfo &fn,
                                                           std::vector<Value> args,
                                                           const Value::Map &kwargs,
                                                           std::string *error);

private:
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, FunctionPtr> m_functions;
};

} // namespace taskbench
