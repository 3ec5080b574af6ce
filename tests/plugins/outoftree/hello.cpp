#include <taskbench/sdk.h>

static std::string greet(const std::string &name)
{
    return "Hello, " + name + "!";
}

TASKBENCH_PLUGIN("hello", "1.0", "An out-of-tree example plugin")
{
    plugin.def("greet", &greet, {"name"}, "Say hello to name.");
}
