// The scheduler's logger ("engine"), shared by the files the engine is split into.
#pragma once

#include "taskbench/logging.h"

namespace taskbench::detail {

std::shared_ptr<spdlog::logger> engineLog();

} // namespace taskbench::detail
