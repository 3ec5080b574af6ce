// taskbench-worker: one worker process of a cluster, started by the scheduler's nanny (a local
// worker) or by hand or a batch system on any machine that reaches the scheduler (a remote
// worker, --scheduler tcp://HOST:PORT). The command line and the loop are core's
// (taskbench/workerprocess.h: core/src/workers/workerargs.cpp, workerprocess.cpp,
// workerloop.cpp); this is only their main().
#include "taskbench/workerprocess.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv)
{
    std::string error;
    auto options = taskbench::parseWorkerProcessArguments(argc, argv, &error);
    if (!options) {
        std::fprintf(
            stderr, "taskbench-worker: %s\n%s", error.c_str(), taskbench::workerProcessUsage());
        return 2;
    }
    return taskbench::runWorkerProcess(std::move(*options));
}
