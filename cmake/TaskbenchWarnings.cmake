# One INTERFACE target carries the project's warning flags; every project target links it.
add_library(taskbench_warnings INTERFACE)
# -Wmaybe-uninitialized is off: GCC 12 reports false positives inside std::variant copies
# (Value built from initializer lists), GCC bug 105593 and relatives.
target_compile_options(taskbench_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
