// What the work commands check about the functions they call before anything is submitted:
// the function exists (else close matches are named), literal arguments bind, and the
// submit options of the command line.
#pragma once

#include "commandline.h"

#include "taskbench/client.h"
#include "taskbench/functionregistry.h"

#include <string>
#include <vector>

namespace taskbench::cli {

/// The function, or an InputError (prefixed with `context`) naming close matches.
FunctionPtr requireFunction(const FunctionRegistry &registry,
                            const std::string &name,
                            const std::string &context = {});

/// The command's FUNC argument (submit, map) exists: checked before the cluster starts.
void requireFunctionArgument(const FunctionRegistry &registry, const Options &opts);

/// The parameters without a default value.
std::size_t requiredParameters(const FunctionInfo &f);

/// Checks literal arguments before the cluster starts, with the registry's precise message
/// (an InputError); arguments holding references are left to the engine.
void checkArguments(const FunctionInfo &f, std::vector<Value> args, const Value::Map &kwargs);

/// --key, --no-pure, --retries, --priority and --kwarg.
SubmitOptions submitOptions(const Options &opts);

/// "plugin.inc(x: int) -> int": FunctionInfo::signature() with the qualified name.
std::string qualifiedSignature(const FunctionInfo &f);

} // namespace taskbench::cli
