// The result cache in taskbench-cli: opening it for a run (unless --no-cache) and the
// `cache stats|clear` command.
#pragma once

#include "commandline.h"

#include "taskbench/history/resultcache.h"

#include <memory>
#include <string>

namespace taskbench::cli {

/// The result cache of this run in the history database at dbPath; null with --no-cache or
/// when the database cannot be opened (that costs the cache, never the run: a notice says so).
/// The plugin files are hashed ahead, while the cluster starts.
std::shared_ptr<history::SqliteResultCache> openResultCache(
    const std::string &dbPath, const Options &opts, const std::vector<std::string> &plugins);

/// `cache stats` (text or --json) and `cache clear`; returns the exit code. Throws InputError
/// when the database cannot be opened.
int commandCache(const std::string &dbPath, const Options &opts);

} // namespace taskbench::cli
