// Checks on called functions and their arguments (see functions.h).
#include "functions.h"

#include "reporting.h"

#include "taskbench/valuecodec.h"

#include <algorithm>

namespace taskbench::cli {

FunctionPtr requireFunction(const FunctionRegistry &registry,
                            const std::string &name,
                            const std::string &context)
{
    if (FunctionPtr f = registry.find(name))
        return f;
    const std::vector<FunctionPtr> all = registry.all();
    const auto dot = name.rfind('.');
    const std::string tail = dot == std::string::npos ? name : name.substr(dot + 1);
    // Same function name in another plugin first; else names that contain the text.
    std::vector<std::string> close;
    for (const FunctionPtr &f : all)
        if (f->name == tail && close.size() < 6)
            close.push_back(f->qualifiedName);
    const bool sameName = !close.empty();
    for (const FunctionPtr &f : all)
        if (!sameName && f->qualifiedName.find(name) != std::string::npos)
            close.push_back(f->qualifiedName);
    if (close.size() > 6)
        close.resize(6);
    std::string msg = context + "unknown function '" + name + "'";
    if (!close.empty())
        msg += " (did you mean " + join(close, ", ") + "?)";
    else if (all.empty())
        msg += " (no plugins were loaded; add a plugin folder with --plugins DIR)";
    else
        msg += " (run 'taskbench-cli plugins' to list the functions)";
    throw InputError(msg);
}

void requireFunctionArgument(const FunctionRegistry &registry, const Options &opts)
{
    requireFunction(registry, opts.positional.front());
}

std::size_t requiredParameters(const FunctionInfo &f)
{
    return std::size_t(std::count_if(
        f.params.begin(), f.params.end(), [](const auto &p) { return !p.hasDefault; }));
}

void checkArguments(const FunctionInfo &f, std::vector<Value> args, const Value::Map &kwargs)
{
    for (const Value &a : args)
        if (a.containsRef())
            return; // references are resolved (and checked) by the engine
    std::string error;
    if (!FunctionRegistry::bindArguments(f, std::move(args), kwargs, &error))
        throw InputError(error);
}

SubmitOptions submitOptions(const Options &opts)
{
    SubmitOptions so;
    so.key = opts.key;
    so.pure = opts.pure;
    so.retries = opts.retries;
    so.priority = opts.priority;
    for (const auto &[name, text] : opts.kwargs)
        so.kwargs[name] = parseArgument(text);
    return so;
}

std::string qualifiedSignature(const FunctionInfo &f)
{
    // signature() starts with the short name (the qualified one for host functions).
    const std::string text = f.signature();
    const std::size_t shortName = (f.name.empty() ? f.qualifiedName : f.name).size();
    return f.qualifiedName + text.substr(std::min(shortName, text.size()));
}

} // namespace taskbench::cli
