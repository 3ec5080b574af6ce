// Finds and loads plugin libraries with Boost.DLL and registers their functions.
//
// Loading is a small state machine per library (found -> resolved -> loaded); a library
// that fails any step is refused with one clear reason and never stops the others.
#pragma once

#include "taskbench/functionregistry.h"

#include <chrono>
#include <string>
#include <vector>

namespace taskbench {

struct PluginRecord
{
    std::string name;
    std::string version;
    std::string description;
    std::string path;
    std::vector<std::string> functions; ///< qualified names
};

struct PluginRefusal
{
    std::string path;
    std::string reason;
};

struct PluginScanReport
{
    std::vector<PluginRecord> loaded;
    std::vector<PluginRefusal> refused;
};

class PluginLoader
{
public:
    explicit PluginLoader(FunctionRegistry &registry);

    /// Default search path: the plugins folder that belongs to the running binaries
    /// (<bindir>/../plugins, build tree or install prefix), then TASKBENCH_PLUGIN_PATH
    /// (colon separated).
    static std::vector<std::string> defaultSearchPath();

    /// Loads every shared library (*.so) in each folder, in name order. Each refusal is
    /// logged once as a warning with path and reason.
    PluginScanReport scan(const std::vector<std::string> &folders);
    /// Loads one library. A plugin whose name is already loaded from another path is refused
    /// (duplicate); from the same path it is reloaded (functions replaced).
    PluginScanReport load(const std::string &path);

    const std::vector<PluginRecord> &plugins() const { return m_plugins; }

    /// Whether a library is first opened in a short-lived child process (taskbench-worker
    /// --probe, next to the running binary) before this process opens it (default: on).
    /// Opening a library runs its code; a library that crashes, hangs, exits or throws
    /// while it is opened is then refused with what happened, instead of taking this process
    /// with it. Worker processes, isolated already, turn it off.
    void setProbe(bool on) { m_probe = on; }
    bool probe() const { return m_probe; }
    /// How long opening one library may take in the probe before it is refused (20 s).
    void setProbeTimeout(std::chrono::milliseconds timeout) { m_probeTimeout = timeout; }

private:
    FunctionRegistry &m_registry;
    std::vector<PluginRecord> m_plugins;
    bool m_probe = true;
    std::chrono::milliseconds m_probeTimeout{20'000};
};

} // namespace taskbench
