// `taskbench-cli submit FUNC [ARG...]`: one call, waited for and printed.
#include "commands.h"
#include "functions.h"
#include "reporting.h"

#include "taskbench/valuecodec.h"

namespace taskbench::cli {

int commandSubmit(CommandContext &ctx)
{
    const Options &opts = ctx.opts;
    const std::string &name = opts.positional.front();
    const FunctionPtr f = requireFunction(*ctx.registry, name);
    std::vector<Value> args;
    for (std::size_t i = 1; i < opts.positional.size(); ++i)
        args.push_back(parseArgument(opts.positional[i]));
    const SubmitOptions so = submitOptions(opts);
    checkArguments(*f, args, so.kwargs);
    Future future;
    try {
        future = ctx.client->submit(name, std::move(args), so);
    } catch (const std::invalid_argument &e) {
        throw InputError(e.what());
    }
    ctx.track({future}, so);
    return finish(ctx, {Output{{}, future}}, {});
}

} // namespace taskbench::cli
