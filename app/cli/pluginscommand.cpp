// `taskbench-cli plugins`: every loaded plugin with its functions (signature and doc), then
// every refused library with the reason; one JSON object per plugin or refusal with --json.
#include "commands.h"
#include "functions.h"
#include "reporting.h"

#include "taskbench/valuecodec.h"

#include <iostream>

namespace taskbench::cli {

namespace {

Value functionJson(const FunctionInfo &f)
{
    Value::List params;
    for (const sdk::ParamSpec &p : f.params) {
        Value::Map param{{"name", p.name}, {"type", p.type}};
        if (p.hasDefault)
            param["default"] = p.defaultValue;
        params.emplace_back(std::move(param));
    }
    return Value::Map{{"name", f.qualifiedName},
                      {"signature", qualifiedSignature(f)},
                      {"doc", f.doc},
                      {"params", std::move(params)},
                      {"result", f.resultType},
                      {"cacheable", f.cacheable}};
}

} // namespace

int commandPlugins(CommandContext &ctx)
{
    const bool json = ctx.opts.json;
    std::ostream &out = std::cout;
    if (!json)
        out << "Plugin folders: "
            << (ctx.pluginFolders.empty() ? "(none)" : join(ctx.pluginFolders, ", ")) << "\n";
    for (const PluginRecord &plugin : ctx.loader->plugins()) {
        Value::List functions;
        if (!json) {
            out << "\n" << plugin.name << " " << plugin.version;
            if (!plugin.description.empty())
                out << " - " << plugin.description;
            out << "\n  " << plugin.path << "\n";
        }
        for (const std::string &name : plugin.functions) {
            const FunctionPtr f = ctx.registry->find(name);
            if (!f)
                continue;
            if (json) {
                functions.emplace_back(functionJson(*f));
                continue;
            }
            out << "  " << qualifiedSignature(*f) << "\n";
            out << wrap(f->doc, "      ", 96);
            if (!f->cacheable)
                out << "      (side effects: never served from the result cache)\n";
        }
        if (json)
            out << toJson(Value::Map{{"kind", "plugin"},
                                     {"name", plugin.name},
                                     {"version", plugin.version},
                                     {"description", plugin.description},
                                     {"path", plugin.path},
                                     {"functions", std::move(functions)}})
                << "\n";
    }
    if (ctx.loader->plugins().empty() && !json)
        out << "\nNo plugins found.\n";
    if (!ctx.scanned.refused.empty() && !json)
        out << "\nRefused libraries:\n";
    for (const PluginRefusal &r : ctx.scanned.refused) {
        if (json)
            out << toJson(Value::Map{{"kind", "refused"}, {"path", r.path}, {"reason", r.reason}})
                << "\n";
        else
            out << "  " << r.path << ": " << r.reason << "\n";
    }
    out.flush();
    return kExitOk;
}

} // namespace taskbench::cli
