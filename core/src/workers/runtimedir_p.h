// The private runtime folder of process workers: <base>/taskbench-<uid>/cluster-<pid>-<rand>/,
// where <base> is ClusterOptions::runtimeDir, else $XDG_RUNTIME_DIR, else /tmp. Both levels
// are mode 0700. The worker sockets live in it; it disappears with the last worker that uses
// it, and a folder left behind by a killed process is purged by the next start-up.
#pragma once

#include <memory>
#include <string>

namespace taskbench::detail {

/// <base>/taskbench-<uid>, created (mode 0700) if missing. Refuses (std::runtime_error) a
/// path that is a symlink, not a directory or owned by someone else; tightens a looser mode.
std::string runtimeBaseDir(const std::string &configured);

/// Removes the cluster-<pid>-* folders in base whose owner process is gone, logging one info
/// line per folder: "Found stale runtime folder <path> (pid N is gone), purging". Returns
/// how many were removed.
int cleanStaleRuntimeFolders(const std::string &base);

/// One process's cluster folder, shared by its process workers.
class RuntimeDir
{
public:
    /// The folder for this base (created, and stale folders purged once per process and
    /// base, on first use). Throws std::runtime_error.
    static std::shared_ptr<RuntimeDir> acquire(const std::string &configuredBase);
    ~RuntimeDir(); ///< removes the folder and its contents
    RuntimeDir(const RuntimeDir &) = delete;
    RuntimeDir &operator=(const RuntimeDir &) = delete;

    const std::string &path() const { return m_path; }

private:
    explicit RuntimeDir(std::string path)
        : m_path(std::move(path))
    {}
    std::string m_path;
};

} // namespace taskbench::detail
