// `taskbench-cli run GRAPH.json`: a graph of named tasks, checked (outputs, cycles, unknown
// functions) before anything is submitted; its outputs (else every task) are printed. With
// --break, matching tasks are held and the user is asked what to do (breakprompt.h).
#include "breakprompt.h"
#include "commands.h"
#include "functions.h"
#include "reporting.h"
#include "resultstream.h"

#include <iostream>

namespace taskbench::cli {

namespace {

TaskGraph readGraph(const FunctionRegistry &registry, const std::string &path)
{
    const std::string text = readFile(path, "graph file");
    std::string error;
    std::optional<TaskGraph> graph = TaskGraph::fromJson(text, &error);
    if (!graph)
        throw InputError(path + ": " + error);
    if (graph->tasks.empty())
        throw InputError(path + ": the graph has no tasks");
    for (const std::string &out : graph->outputs)
        if (!graph->tasks.count(out))
            throw InputError(path + ": output '" + out + "' is not a task of the graph");
    if (!graph->topologicalOrder(&error))
        throw InputError(path + ": " + error);
    for (const auto &[taskName, task] : graph->tasks)
        requireFunction(registry, task.function, path + ": task '" + taskName + "': ");
    return std::move(*graph);
}

} // namespace

int commandRun(CommandContext &ctx)
{
    const Options &opts = ctx.opts;
    const std::string &path = opts.positional.front();
    const TaskGraph graph = readGraph(*ctx.registry, path);

    SubmitOptions so;
    so.retries = opts.retries;
    so.priority = opts.priority;
    const bool breaks = !opts.breaks.empty();
    if (breaks) {
        requireTerminalForBreak();
        ctx.client->pause(); // nothing starts before the breakpoints are in place
    }
    std::map<std::string, Future> futures;
    try {
        // Every task's future: the history records each task's arguments and result (as
        // map's do), and a breakpoint may name any of them.
        TaskGraph submitted = graph;
        submitted.outputs.clear();
        futures = ctx.client->compute(submitted, so);
    } catch (const std::invalid_argument &e) {
        throw InputError(path + ": " + e.what());
    }
    {
        std::vector<Future> computed;
        computed.reserve(futures.size());
        for (const auto &kv : futures)
            computed.push_back(kv.second);
        ctx.track(computed, so);
        if (breaks) {
            addBreakpoints(*ctx.client, opts.breaks, futures);
            ctx.client->resume();
            promptAtBreakpoints(*ctx.client, computed, std::cin, resultOut());
        }
    }
    std::vector<std::string> names = graph.outputs;
    if (names.empty())
        for (const auto &kv : futures)
            names.push_back(kv.first);
    std::vector<Output> outputs;
    for (const std::string &n : names) {
        const auto it = futures.find(n);
        if (it != futures.end())
            outputs.push_back(Output{n, it->second});
    }
    futures.clear(); // the others are held by their dependents (and the recorder) as needed
    return finish(ctx, outputs, {});
}

} // namespace taskbench::cli
