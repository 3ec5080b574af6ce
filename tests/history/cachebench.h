// `taskbench-history-bench cache [--tasks N] [--repeat R] [--workers W]`: the result cache's
// figures (see cachebench.cpp).
#pragma once

/// argv[1] is "cache"; returns the exit code.
int runCacheBench(int argc, char **argv);
