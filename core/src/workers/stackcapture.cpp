// Stacks of threads in other processes through eu-stack (see stackcapture_p.h).
#include "workers/stackcapture_p.h"

#include "slurm/slurmcommands_p.h"

#include <sstream>

namespace taskbench::detail {

std::string threadBlock(const std::string &out, long tid)
{
    const std::string header = "TID " + std::to_string(tid) + ":";
    std::istringstream lines(out);
    std::string line;
    std::string block;
    bool inside = false;
    while (std::getline(lines, line)) {
        if (line.rfind("TID ", 0) == 0) {
            if (inside)
                break;
            inside = line == header;
        }
        if (inside)
            block += line + "\n";
    }
    return block;
}

std::optional<std::string> captureStack(long pid, long tid, std::string *error)
{
    auto fail = [&](std::string why) -> std::optional<std::string> {
        if (error)
            *error = std::move(why);
        return std::nullopt;
    };
    if (pid <= 0)
        return fail("no process to take a stack of");
    // -s: source file and line of each frame where debug information has them.
    const CommandResult r = runCommand("eu-stack", {"-s", "-p", std::to_string(pid)});
    if (!r.started)
        return fail("eu-stack is not installed (Debian package elfutils): cannot take the stack "
                    "of process "
                    + std::to_string(pid));
    // eu-stack exits 1 when some frames could not be unwound, with the rest printed.
    if (r.out.find("TID ") == std::string::npos)
        return fail(r.describe("eu-stack"));
    if (tid <= 0)
        return r.out;
    std::string block = threadBlock(r.out, tid);
    if (block.empty())
        return fail("eu-stack found no thread " + std::to_string(tid) + " in process "
                    + std::to_string(pid) + " (it ended meanwhile?)");
    return block;
}

} // namespace taskbench::detail
