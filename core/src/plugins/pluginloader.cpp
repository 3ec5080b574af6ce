// Finds plugin libraries, opens them with Boost.DLL and registers their functions.
//
// Each library goes through found -> resolved -> loaded: *found* means the file exists and is
// a regular file; *resolved* means dlopen succeeded, the exported entry point exists and its
// plain-data record carries the right magic and SDK ABI version (checked before any C++ type
// crosses the boundary); *loaded* means the manifest was built, validated and its functions
// registered as "plugin.function". A library that fails a step is refused with exactly one
// warning on the "plugins" logger naming the path and the reason, and scanning goes on.
//
// Lifetime: the boost::dll::shared_library lives in a shared_ptr that every registered
// FunctionInfo holds, so the code stays mapped while any task can still call it. Everything
// that came out of the library (the manifest's std::function objects, a caught exception) is
// destroyed before the last reference to the library goes away.
//
// Reload: dlopen hands back the already-mapped object for a path it has seen, even when the
// file was rebuilt since. Loading a path this loader already loaded therefore maps a private
// temporary copy of the file (unlinked right after dlopen), so a rebuilt plugin really is
// reloaded (the copy lives in $TMPDIR, which must allow mapping executable code);
// FunctionInfo::pluginPath still names the original file. A library loaded first
// by another PluginLoader in the same process is not copied and may come back stale. The
// registry has no atomic "replace plugin": while a reload swaps the entries, a lookup may
// briefly miss that plugin's functions (tasks already holding an entry are unaffected).
//
// Thread safety: a PluginLoader is used from one thread at a time; the FunctionRegistry it
// fills is thread safe, so tasks may run while plugins are (re)loaded.
#include "taskbench/pluginloader.h"

#include "plugins/pluginprobe_p.h"

#include "taskbench/logging.h"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include <dlfcn.h>
#include <unistd.h>

namespace taskbench {

namespace {

namespace fs = std::filesystem;

/// Where plugins live relative to an install prefix (matches packaging/CMakeLists.txt).
constexpr const char *kInstalledPluginDir = "lib/taskbench/plugins";
/// Where plugins live relative to a build tree (TASKBENCH_PLUGIN_OUTPUT_DIR).
constexpr const char *kBuildTreePluginDir = "plugins";

enum class LoadState { Found, Resolved, Loaded };

/// One library on its way through the state machine. Member order matters: the manifest
/// (std::function objects whose code lives in the library) is destroyed before the library.
struct Candidate
{
    std::string path; ///< absolute, normalised: the identity of the plugin file
    LoadState state = LoadState::Found;
    std::shared_ptr<boost::dll::shared_library> library;
    const sdk::PluginEntry *entry = nullptr;
    sdk::Manifest manifest;
};

/// The invoker registered for a plugin function. FunctionInfo declares `library` after
/// `invoke`, so it releases the library first; if that was the last reference, the plugin's
/// std::function would then be destroyed through unmapped code. This wrapper lives in host
/// code and holds its own reference, declared first so it is released last.
struct PluginInvoker
{
    std::shared_ptr<boost::dll::shared_library> library;
    sdk::Invoker invoke;

    Value operator()(const std::vector<Value> &args, sdk::TaskContext &ctx) const
    {
        return invoke(args, ctx);
    }
};

bool isIdentifier(std::string_view s)
{
    const auto alpha
        = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (s.empty() || !alpha(s.front()))
        return false;
    return std::all_of(
        s.begin() + 1, s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

std::string hex32(std::uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

std::string normalisedPath(const std::string &path)
{
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(path), ec);
    if (ec)
        p = fs::absolute(fs::path(path), ec).lexically_normal();
    return p.string();
}

/// Copies `source` to a fresh temporary file and returns its name ("" on failure, with
/// *error set). The caller unlinks it once the library is mapped.
std::string makeTemporaryCopy(const std::string &source, std::string *error)
{
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec)
        dir = "/tmp";
    std::string name = (dir / "taskbench-plugin-XXXXXX.so").string();
    const int fd = ::mkstemps(name.data(), 3);
    if (fd < 0) {
        *error = std::string("cannot create a temporary copy: ") + std::strerror(errno);
        return {};
    }
    ::close(fd);
    fs::copy_file(source, name, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        *error = "cannot copy to " + name + ": " + ec.message();
        fs::remove(name, ec);
        return {};
    }
    return name;
}

/// Opens the library: found -> resolved. Returns "" on success, else the reason.
std::string resolve(Candidate &c, bool reload)
{
    std::error_code fsError;
    const fs::file_status status = fs::status(c.path, fsError);
    if (!fs::exists(status))
        return "file does not exist";
    if (!fs::is_regular_file(status))
        return "not a regular file";

    // A reload maps a private copy: dlopen would return the old mapping for the same path.
    std::string openPath = c.path;
    std::string copy;
    if (reload) {
        std::string copyError;
        copy = makeTemporaryCopy(c.path, &copyError);
        if (copy.empty())
            log::get("plugins")->warn("reloading {} in place ({}); a rebuilt library will not "
                                      "be picked up",
                                      c.path,
                                      copyError);
        else
            openPath = copy;
    }

    // RTLD_NOW, not lazy binding: a symbol the library needs but nobody provides is then a
    // refusal here, instead of a "symbol lookup error" that ends the process when a task
    // first calls it. RTLD_LOCAL keeps each plugin's symbols (all plugins export the same
    // entry point name) out of the global namespace.
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    ::dlerror(); // start from a clean slate so the message below is dlopen's
    library->load(boost::dll::fs::path(openPath),
                  ec,
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    const char *dlText = ::dlerror();
    if (!copy.empty()) {
        std::error_code ignored;
        fs::remove(copy, ignored); // the mapping outlives the name
    }
    if (ec || !library->is_loaded()) {
        std::string text = dlText ? dlText : ec.message();
        // The user knows the file by its own name, not by the temporary copy's.
        if (const std::size_t at = copy.empty() ? std::string::npos : text.find(copy);
            at != std::string::npos)
            text.replace(at, copy.size(), c.path);
        return "not a loadable shared library: " + text;
    }
    c.library = std::move(library);

    if (!c.library->has(sdk::kEntryPointName))
        return std::string("not a Taskbench plugin: no ") + sdk::kEntryPointName + " symbol";
    const void *alias = c.library->get<const void *>(sdk::kEntryPointName);
    if (!alias)
        return std::string("not a Taskbench plugin: ") + sdk::kEntryPointName + " is null";
    auto *entryFunction
        = reinterpret_cast<const sdk::PluginEntry *(*)()>(reinterpret_cast<std::intptr_t>(alias));
    try {
        c.entry = entryFunction();
    } catch (const std::exception &e) {
        return std::string("entry point threw: ") + e.what();
    } catch (...) {
        return "entry point threw a non-standard exception";
    }
    if (!c.entry)
        return "not a Taskbench plugin: the entry point returned no plugin record";
    if (c.entry->magic != sdk::kPluginMagic)
        return "not a Taskbench plugin: bad magic " + hex32(c.entry->magic) + " (expected "
               + hex32(sdk::kPluginMagic) + ")";
    if (c.entry->sdkVersion != TASKBENCH_SDK_VERSION)
        return "built for SDK ABI " + std::to_string(c.entry->sdkVersion) + ", this Taskbench has "
               + std::to_string(TASKBENCH_SDK_VERSION);
    if (!c.entry->build)
        return "not a Taskbench plugin: the plugin record has no manifest function";
    c.state = LoadState::Resolved;
    return {};
}

/// Builds and validates the manifest. Returns "" on success, else the reason.
std::string buildManifest(Candidate &c)
{
    try {
        c.manifest = c.entry->build();
    } catch (const std::exception &e) {
        return std::string("registration failed: ") + e.what();
    } catch (...) {
        return "registration failed: a non-standard exception was thrown";
    }
    const sdk::Manifest &m = c.manifest;
    if (m.sdkVersion != TASKBENCH_SDK_VERSION)
        return "manifest built for SDK ABI " + std::to_string(m.sdkVersion)
               + ", this Taskbench has " + std::to_string(TASKBENCH_SDK_VERSION);
    if (m.name.empty())
        return "the plugin name is empty";
    if (!isIdentifier(m.name))
        return "invalid plugin name '" + m.name
               + "': names must be identifiers ([A-Za-z_][A-Za-z0-9_]*)";
    std::set<std::string_view> seen;
    for (const sdk::FunctionSpec &f : m.functions) {
        if (f.name.empty())
            return "plugin '" + m.name + "' has a function with an empty name";
        if (!isIdentifier(f.name))
            return "invalid function name '" + f.name
                   + "': names must be identifiers ([A-Za-z_][A-Za-z0-9_]*)";
        if (!seen.insert(f.name).second)
            return "function '" + f.name + "' is defined more than once";
        if (!f.invoke)
            return "function '" + f.name + "' has no implementation";
    }
    return {};
}

const char *stateName(LoadState s)
{
    switch (s) {
    case LoadState::Found:
        return "found";
    case LoadState::Resolved:
        return "resolved";
    case LoadState::Loaded:
        return "loaded";
    }
    return "?";
}

void refuse(PluginScanReport &report, const Candidate &c, std::string reason)
{
    auto logger = log::get("plugins");
    logger->warn("refused plugin {}: {}", c.path, reason);
    logger->debug("{} stopped in state '{}'", c.path, stateName(c.state));
    report.refused.push_back({c.path, std::move(reason)});
}

/// `probeRefusal`: why the probe says this process must not open the library ("" if it may).
void loadOne(FunctionRegistry &registry,
             std::vector<PluginRecord> &plugins,
             const std::string &rawPath,
             const std::string &probeRefusal,
             PluginScanReport &report)
{
    Candidate c;
    c.path = normalisedPath(rawPath);
    if (!probeRefusal.empty())
        return refuse(report, c, probeRefusal);
    const auto samePath = std::find_if(
        plugins.begin(), plugins.end(), [&](const auto &p) { return p.path == c.path; });
    const bool reload = samePath != plugins.end();

    if (std::string reason = resolve(c, reload); !reason.empty())
        return refuse(report, c, std::move(reason));
    if (std::string reason = buildManifest(c); !reason.empty())
        return refuse(report, c, std::move(reason));

    const sdk::Manifest &m = c.manifest;
    const auto sameName = std::find_if(
        plugins.begin(), plugins.end(), [&](const auto &p) { return p.name == m.name; });
    if (sameName != plugins.end() && sameName->path != c.path)
        return refuse(report, c, "plugin '" + m.name + "' already loaded from " + sameName->path);

    // Replace what this path (or this plugin name) registered before: functions that the new
    // build no longer has must disappear, running tasks keep their old entries alive.
    if (reload && samePath->name != m.name)
        registry.removePlugin(samePath->name);
    if (sameName != plugins.end())
        registry.removePlugin(m.name);

    PluginRecord record;
    record.name = m.name;
    record.version = m.version;
    record.description = m.description;
    record.path = c.path;
    for (const sdk::FunctionSpec &f : m.functions) {
        FunctionInfo info;
        info.qualifiedName = m.name + "." + f.name;
        info.plugin = m.name;
        info.pluginVersion = m.version;
        info.pluginPath = c.path;
        info.name = f.name;
        info.doc = f.doc;
        info.params = f.params;
        info.resultType = f.resultType;
        info.cacheable = f.traits.cacheable;
        info.invoke = PluginInvoker{c.library, f.invoke};
        info.library = c.library;
        record.functions.push_back(info.qualifiedName);
        registry.add(std::move(info));
    }
    c.state = LoadState::Loaded;

    log::get("plugins")->info("{} plugin '{}' {} from {} ({} function{})",
                              reload ? "reloaded" : "loaded",
                              record.name,
                              record.version,
                              record.path,
                              record.functions.size(),
                              record.functions.size() == 1 ? "" : "s");
    if (reload)
        *samePath = record; // a name clash with another path was refused above
    else
        plugins.push_back(record);
    report.loaded.push_back(std::move(record));
}

detail::ProbeOptions probeOptions(std::chrono::milliseconds perLibrary)
{
    detail::ProbeOptions o;
    o.perLibrary = perLibrary;
    return o;
}

} // namespace

PluginLoader::PluginLoader(FunctionRegistry &registry)
    : m_registry(registry)
{}

std::vector<std::string> PluginLoader::defaultSearchPath()
{
    std::vector<std::string> folders;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.has_parent_path()) {
        // <prefix>/bin/<exe>: a build tree has its CMakeCache.txt in <prefix> and keeps
        // plugins in <prefix>/plugins; an install keeps them in <prefix>/lib/taskbench/plugins.
        const fs::path prefix = exe.parent_path().parent_path();
        const fs::path buildTree = prefix / kBuildTreePluginDir;
        const fs::path installed = prefix / kInstalledPluginDir;
        if (fs::exists(prefix / "CMakeCache.txt", ec))
            folders.push_back(buildTree.string());
        else if (!fs::is_directory(installed, ec) && fs::is_directory(buildTree, ec))
            folders.push_back(buildTree.string());
        else
            folders.push_back(installed.string());
    }
    if (const char *env = std::getenv("TASKBENCH_PLUGIN_PATH")) {
        std::string_view rest(env);
        while (!rest.empty()) {
            const std::size_t colon = rest.find(':');
            const std::string_view item = rest.substr(0, colon);
            if (!item.empty())
                folders.emplace_back(item);
            rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        }
    }
    return folders;
}

PluginScanReport PluginLoader::scan(const std::vector<std::string> &folders)
{
    PluginScanReport report;
    std::set<std::string> visited; // a folder listed twice does not reload its plugins
    std::vector<std::string> paths;
    for (const std::string &folder : folders) {
        std::error_code ec;
        const fs::file_status status = fs::status(folder, ec);
        if (!fs::exists(status)) {
            log::get("plugins")->warn("plugin folder {} does not exist", folder);
            continue;
        }
        if (!fs::is_directory(status)) {
            log::get("plugins")->warn("plugin folder {} is not a folder", folder);
            continue;
        }
        std::vector<fs::path> files;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code typeError;
            if (it->path().extension() == ".so" && it->is_regular_file(typeError))
                files.push_back(it->path());
        }
        if (ec)
            log::get("plugins")->warn("cannot list plugin folder {}: {}", folder, ec.message());
        std::sort(files.begin(), files.end(), [](const fs::path &a, const fs::path &b) {
            return a.filename().string() < b.filename().string();
        });
        for (const fs::path &file : files)
            if (visited.insert(normalisedPath(file.string())).second)
                paths.push_back(file.string());
    }
    // All of them in one probe process, then here, in the folders' order.
    const std::vector<std::string> refusals
        = m_probe ? detail::probePluginLoads(paths, probeOptions(m_probeTimeout))
                  : std::vector<std::string>(paths.size());
    for (std::size_t i = 0; i < paths.size(); ++i)
        loadOne(m_registry, m_plugins, paths[i], refusals[i], report);
    return report;
}

PluginScanReport PluginLoader::load(const std::string &path)
{
    PluginScanReport report;
    const std::string refusal
        = m_probe ? detail::probePluginLoads({path}, probeOptions(m_probeTimeout)).front() : "";
    loadOne(m_registry, m_plugins, path, refusal, report);
    return report;
}

} // namespace taskbench
