// Named spdlog loggers, one per component ("engine", "plugins", "worker", "cli", "gui").
// Created once, on first use; logging never throws into callers.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace taskbench::log {

/// The logger for a component; created with the default sink on first use.
std::shared_ptr<spdlog::logger> get(const std::string &component);
/// Sets the level of every Taskbench logger ("trace", "debug", "info", "warn", "error",
/// "critical", "off"). Returns false for an unknown level name.
bool setLevel(const std::string &level);
/// Sends all loggers to stderr (command line tools keep stdout for results).
void useStderr();

} // namespace taskbench::log
