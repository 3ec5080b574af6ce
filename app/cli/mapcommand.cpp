// `taskbench-cli map FUNC (--range A:B[:S] | --inputs FILE) [--reduce FUNC2]`: one task per
// input; with --reduce only the reduction is printed and a summary of the mapped tasks goes
// to stderr.
#include "commands.h"
#include "functions.h"
#include "reporting.h"
#include "signals.h"

#include <iostream>
#include <optional>

namespace taskbench::cli {

namespace {

/// The inputs of --range or --inputs.
std::vector<Value> mapInputs(const Options &opts)
{
    std::vector<Value> inputs;
    if (opts.range) {
        for (std::int64_t v : parseRange(*opts.range))
            inputs.emplace_back(static_cast<long long>(v));
    } else {
        inputs = readInputs(*opts.inputs);
    }
    return inputs;
}

/// A function of two or more arguments takes each input as the list of its arguments.
std::vector<std::vector<Value>>
spreadInputs(const FunctionInfo &f, const std::string &name, std::vector<Value> &inputs)
{
    std::vector<std::vector<Value>> argLists;
    argLists.reserve(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].isList())
            throw InputError("input " + std::to_string(i + 1) + ": " + name + " takes "
                             + std::to_string(requiredParameters(f))
                             + " arguments, so each input must be a JSON list of them, got "
                             + inputs[i].kindName());
        argLists.push_back(std::move(inputs[i].toList()));
    }
    return argLists;
}

void printMapSummary(const std::vector<Future> &mapped)
{
    std::int64_t finished = 0, failed = 0, attempts = 0, cached = 0;
    for (const Future &m : mapped) {
        finished += m.status() == FutureStatus::Finished;
        failed += m.status() != FutureStatus::Finished;
        attempts += m.attempts();
        cached += m.cached();
    }
    std::cerr << "taskbench-cli: map: " << plural(std::int64_t(mapped.size()), "task") << ", "
              << finished << " finished";
    // A user who reruns a map sees at once that nothing was computed again.
    if (cached > 0)
        std::cerr << " (" << cached << " from the result cache)";
    std::cerr << ", " << failed << " failed, " << plural(attempts, "attempt") << "\n";
}

} // namespace

int commandMap(CommandContext &ctx)
{
    const Options &opts = ctx.opts;
    Client &client = *ctx.client;
    const std::string &name = opts.positional.front();
    const FunctionPtr f = requireFunction(*ctx.registry, name);
    if (opts.reduce)
        requireFunction(*ctx.registry, *opts.reduce, "--reduce: ");
    std::vector<Value> inputs = mapInputs(opts);
    if (interrupted())
        return interruptedExitCode();

    const bool spread = requiredParameters(*f) >= 2;
    std::vector<std::vector<Value>> argLists;
    if (spread)
        argLists = spreadInputs(*f, name, inputs);
    if (opts.inputs && inputs.empty())
        throw InputError("--inputs " + *opts.inputs + ": no inputs (the "
                         + (*opts.inputs == "-" ? std::string("standard input") : "file")
                         + " is empty)");
    SubmitOptions so = submitOptions(opts);
    // Every input's literals are checked before anything is submitted; an error names the
    // input (1-based, in the order of the file).
    const std::size_t count = spread ? argLists.size() : inputs.size();
    for (std::size_t i = 0; i < count; ++i) {
        try {
            checkArguments(*f, spread ? argLists[i] : std::vector<Value>{inputs[i]}, so.kwargs);
        } catch (const InputError &e) {
            throw InputError(opts.inputs ? "--inputs " + *opts.inputs + ", input "
                                               + std::to_string(i + 1) + ": " + e.what()
                                         : std::string(e.what()));
        }
    }

    std::vector<Future> mapped;
    std::optional<Future> reduced;
    try {
        if (!opts.key.empty()) {
            // Explicit keys: K-0, K-1, ... one submit each (map() keys its tasks itself).
            const std::size_t n = spread ? argLists.size() : inputs.size();
            mapped.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                SubmitOptions one = so;
                one.key = opts.key + "-" + std::to_string(i);
                one.group = opts.key;
                mapped.push_back(client.submit(name,
                                               spread ? std::move(argLists[i])
                                                      : std::vector<Value>{std::move(inputs[i])},
                                               std::move(one)));
            }
        } else {
            SubmitOptions many = so;
            many.key.clear();
            mapped = spread ? client.mapArgs(name, std::move(argLists), many)
                            : client.map(name, std::move(inputs), many);
        }
        if (opts.reduce) {
            Value::List refs;
            refs.reserve(mapped.size());
            for (const Future &m : mapped)
                refs.emplace_back(Value(m));
            SubmitOptions r = so;
            r.kwargs.clear();
            r.group.clear();
            reduced = client.submit(*opts.reduce, {Value(std::move(refs))}, r);
        }
    } catch (const std::invalid_argument &e) {
        throw InputError(e.what());
    }

    ctx.track(mapped, so);
    if (!reduced)
        return finish(ctx, outputsOf(mapped), {});
    ctx.track({*reduced}, so);
    const auto summary = [&mapped, &opts] {
        if (!opts.json)
            printMapSummary(mapped);
    };
    return finish(ctx, {Output{{}, *reduced}}, mapped, summary);
}

} // namespace taskbench::cli
