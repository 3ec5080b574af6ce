// Runtime folders of process workers: creation with safe permissions, sharing between the
// workers of one process, removal, and the start-up purge of folders whose owner is gone (as
// Dask's "Found stale lock file and directory ..., purging").
#include "workers/runtimedir_p.h"

#include "taskbench/logging.h"
#include "taskbench/valuecodec.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace taskbench::detail {

namespace {

/// Creates dir (mode 0700) or checks an existing one: a real directory, ours, private.
void ensurePrivateDir(const std::string &dir)
{
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create " + dir + ": " + std::strerror(errno));
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0)
        throw std::runtime_error("cannot inspect " + dir + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode))
        throw std::runtime_error(dir + " is not a directory (a symlink?); refusing to use it");
    if (st.st_uid != ::getuid())
        throw std::runtime_error(dir + " belongs to uid " + std::to_string(st.st_uid)
                                 + ", not to this user; refusing to use it");
    if ((st.st_mode & 0077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
        throw std::runtime_error("cannot make " + dir + " private: " + std::strerror(errno));
}

/// The owner pid in "cluster-<pid>-<random>", or 0.
long ownerPid(std::string_view name)
{
    constexpr std::string_view prefix = "cluster-";
    if (name.substr(0, prefix.size()) != prefix)
        return 0;
    name.remove_prefix(prefix.size());
    long pid = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || end == name.data() || end == name.data() + name.size() || *end != '-'
        || pid <= 0)
        return 0;
    return pid;
}

bool processGone(long pid)
{
    return ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
}

} // namespace

std::string runtimeBaseDir(const std::string &configured)
{
    std::string base = configured;
    if (base.empty())
        if (const char *xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg)
            base = xdg;
    if (base.empty())
        base = "/tmp";
    while (base.size() > 1 && base.back() == '/')
        base.pop_back();
    // The configured base itself may be shared (/tmp); only our own level must be private.
    if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create " + base + ": " + std::strerror(errno));
    const std::string dir = base + "/taskbench-" + std::to_string(::getuid());
    ensurePrivateDir(dir);
    return dir;
}

int cleanStaleRuntimeFolders(const std::string &base)
{
    DIR *d = ::opendir(base.c_str());
    if (!d)
        return 0;
    std::vector<std::pair<std::string, long>> stale;
    while (dirent *e = ::readdir(d)) {
        const long pid = ownerPid(e->d_name);
        if (pid > 0 && pid != ::getpid() && processGone(pid))
            stale.emplace_back(base + "/" + e->d_name, pid);
    }
    ::closedir(d);
    int removed = 0;
    for (const auto &[path, pid] : stale) {
        log::get("worker")->info(
            "Found stale runtime folder {} (pid {} is gone), purging", path, pid);
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        if (ec)
            log::get("worker")->warn("cannot remove {}: {}", path, ec.message());
        else
            ++removed;
    }
    return removed;
}

std::shared_ptr<RuntimeDir> RuntimeDir::acquire(const std::string &configuredBase)
{
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<RuntimeDir>> folders;
    static std::set<std::string> purged;

    std::lock_guard lock(mutex);
    const std::string base = runtimeBaseDir(configuredBase);
    if (auto existing = folders[base].lock())
        return existing;
    if (purged.insert(base).second)
        cleanStaleRuntimeFolders(base);
    const std::string path
        = base + "/cluster-" + std::to_string(::getpid()) + "-" + randomToken().substr(0, 8);
    if (::mkdir(path.c_str(), 0700) != 0)
        throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    std::shared_ptr<RuntimeDir> dir(new RuntimeDir(path));
    folders[base] = dir;
    return dir;
}

RuntimeDir::~RuntimeDir()
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

} // namespace taskbench::detail
