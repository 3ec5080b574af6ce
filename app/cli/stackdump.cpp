// The stacks of running tasks on request (see stackdump.h).
#include "stackdump.h"

#include <iostream>

namespace taskbench::cli {

void printRunningStacks(Client &client, const std::vector<Future> &futures)
{
    int running = 0;
    for (const Future &f : futures) {
        if (f.status() != FutureStatus::Processing)
            continue;
        ++running;
        std::string error;
        const std::optional<std::string> stack = client.stackOf(f.key(), &error);
        std::cerr << "taskbench-cli: stack of " << f.key() << " (" << f.function() << "):\n"
                  << (stack ? *stack : "  " + error + "\n");
    }
    if (running == 0)
        std::cerr << "taskbench-cli: no task is running\n";
    std::cerr.flush();
}

} // namespace taskbench::cli
