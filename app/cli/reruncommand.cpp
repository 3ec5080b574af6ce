// `taskbench-cli history rerun --session ID [--failed | --task ID...]`: the recorded calls
// again, in this run's cluster (and recorded as a new session).
#include "commands.h"
#include "recording.h"
#include "reporting.h"

#include "taskbench/history/rerun.h"

namespace taskbench::cli {

int commandRerun(CommandContext &ctx)
{
    const Options &opts = ctx.opts;
    history::HistoryStore store;
    openHistory(store, opts);
    if (!store.session(opts.session))
        throw InputError("history rerun: no session " + std::to_string(opts.session) + " in "
                         + store.path());
    const history::RerunPlan plan
        = history::planRerun(store, opts.session, opts.taskIds, opts.failedOnly, *ctx.registry);
    if (!plan.problems.empty())
        throw InputError("history rerun: " + join(plan.problems, "\n  "));
    std::vector<Future> futures;
    try {
        futures = history::submitRerun(*ctx.client, plan);
    } catch (const std::invalid_argument &e) {
        throw InputError(std::string("history rerun: ") + e.what());
    }
    for (std::size_t i = 0; i < futures.size(); ++i)
        ctx.track({futures[i]}, plan.calls[i].options);
    return finish(ctx, outputsOf(futures), {});
}

} // namespace taskbench::cli
