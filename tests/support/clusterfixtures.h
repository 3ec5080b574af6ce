// What the cluster suites set up alike: the bundled plugins loaded into a registry, options
// for a local cluster of worker processes (the built taskbench-worker), and non-pure submit
// options (every call a new task, never served from a result cache).
#pragma once

#include "taskbench/client.h"
#include "taskbench/pluginloader.h"

#include <memory>
#include <string>

namespace taskbench::testsupport {

inline std::shared_ptr<FunctionRegistry> loadBundledPlugins()
{
    auto registry = std::make_shared<FunctionRegistry>();
    PluginLoader loader(*registry);
    loader.scan({TASKBENCH_PLUGIN_DIR});
    return registry;
}

inline ClusterOptions processCluster(int workers = 1)
{
    ClusterOptions o;
    o.workers = workers;
    o.processes = true;
    o.workerExecutable = std::string(TASKBENCH_BIN_DIR) + "/taskbench-worker";
    return o;
}

inline SubmitOptions impure()
{
    SubmitOptions o;
    o.pure = false;
    return o;
}

} // namespace taskbench::testsupport
