// Parameter sweeps for functions of several parameters: each parameter gets its own list of
// values, combined either element-wise (zip) or as the full product (grid). The count is
// known before anything is built, so the map form can preview "N tasks" live.
#pragma once

#include "taskbench/value.h"

#include <QString>

#include <cstddef>
#include <optional>
#include <vector>

namespace taskbench::gui {

enum class SweepMode { Zip, Grid };

/// How many argument lists a sweep makes. Zip: lists of one value are broadcast, the others
/// must agree (the shortest wins, and *warning says so). Grid: the product of the sizes,
/// saturating at SIZE_MAX. An empty list makes zero tasks.
std::size_t
sweepCount(const std::vector<std::size_t> &sizes, SweepMode mode, QString *warning = nullptr);

/// The argument lists, in order (grid: the last parameter varies fastest). Returns nullopt
/// and sets *error when the count exceeds `limit`.
std::optional<std::vector<std::vector<Value>>>
buildSweep(const std::vector<std::vector<Value>> &lists,
           SweepMode mode,
           std::size_t limit,
           QString *error);

} // namespace taskbench::gui
