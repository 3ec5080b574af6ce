# One INTERFACE target carries the project's warning flags; every project target links it.
add_library(taskbench_warnings INTERFACE)
target_compile_options(taskbench_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
