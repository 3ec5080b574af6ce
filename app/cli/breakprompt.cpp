// The --break prompt (see breakprompt.h). It polls the held tasks while it waits, in the
// same short slices as the other waiting loops, so that Ctrl-C stays responsive.
#include "breakprompt.h"

#include "commandline.h"
#include "signals.h"

#include "taskbench/valuecodec.h"

#include <unistd.h>

#include <algorithm>
#include <istream>
#include <ostream>
#include <set>

namespace taskbench::cli {

using namespace std::chrono_literals;

namespace {

std::string describeArgs(const std::vector<Value> &args)
{
    std::string s = "(";
    for (std::size_t i = 0; i < args.size(); ++i)
        s += (i ? ", " : "") + repr(args[i], 200);
    return s + ")";
}

void printHeld(Client &client, const Future &f, std::ostream &out)
{
    out << "  " << f.key() << "  " << f.function() << describeArgs(client.resolvedArguments(f))
        << "  attempt " << f.attempts() + 1 << "\n";
}

constexpr const char *kPromptHelp = "  inspect (i): the held tasks and their arguments\n"
                                    "  step (s):    run the first held task, stop at the next\n"
                                    "  continue (c): remove the breakpoints and run everything\n"
                                    "  abort (a):   cancel what has not finished\n";

} // namespace

void requireTerminalForBreak()
{
    if (!::isatty(STDIN_FILENO))
        throw InputError("--break stops at held tasks and asks what to do: it needs a terminal "
                         "on standard input (it is not one here). Run without --break, or in "
                         "a terminal.");
}

void addBreakpoints(Client &client,
                    const std::vector<std::string> &targets,
                    const std::map<std::string, Future> &tasks)
{
    for (const std::string &target : targets) {
        Breakpoint b;
        if (client.functions().find(target)) {
            b.match = Breakpoint::Match::Function;
            b.pattern = target;
        } else if (const auto it = tasks.find(target); it != tasks.end()) {
            b.match = Breakpoint::Match::Key;
            b.pattern = it->second.key();
        } else if (std::any_of(tasks.begin(), tasks.end(), [&](const auto &kv) {
                       return kv.second.key() == target;
                   })) {
            b.match = Breakpoint::Match::Key;
            b.pattern = target;
        } else {
            throw InputError("--break " + target
                             + ": not a loaded function, nor a task (name or key) of the graph");
        }
        client.addBreakpoint(b);
    }
}

bool promptAtBreakpoints(Client &client,
                         const std::vector<Future> &futures,
                         std::istream &in,
                         std::ostream &out)
{
    std::vector<Future> pending = futures;
    std::set<std::uint64_t> announced;
    while (!interrupted()) {
        std::erase_if(pending, [](const Future &f) { return f.done(); });
        if (pending.empty())
            return true;
        const std::vector<Future> held = client.heldTasks();
        if (held.empty()) {
            try {
                pending = client.wait(pending, ReturnWhen::FirstCompleted, 50ms).notDone;
            } catch (const TimeoutError &) {
            }
            continue;
        }
        for (const Future &f : held)
            if (announced.insert(f.id()).second) {
                out << "held at a breakpoint:\n";
                printHeld(client, f, out);
            }
        out << "[i]nspect, [s]tep, [c]ontinue, [a]bort? " << std::flush;
        std::string answer;
        if (!std::getline(in, answer)) {
            out << "\ninput ended: aborting\n";
            answer = "abort";
        }
        answer.erase(0, answer.find_first_not_of(" \t"));
        answer.erase(answer.find_last_not_of(" \t\r") + 1);
        if (answer == "i" || answer == "inspect") {
            out << held.size() << (held.size() == 1 ? " task" : " tasks") << " held:\n";
            for (const Future &f : held)
                printHeld(client, f, out);
        } else if (answer == "s" || answer == "step") {
            if (Future f = client.step(); f.valid())
                out << "released " << f.key() << "\n";
        } else if (answer == "c" || answer == "continue") {
            for (const Breakpoint &b : client.breakpoints())
                client.removeBreakpoint(b.id);
            out << "continuing: released " << client.releaseAll() << " held, no breakpoints\n";
        } else if (answer == "a" || answer == "abort") {
            client.cancel(pending);
            out << "aborted: cancelled " << pending.size() << " unfinished\n";
            return false;
        } else {
            out << kPromptHelp;
        }
    }
    return true;
}

} // namespace taskbench::cli
