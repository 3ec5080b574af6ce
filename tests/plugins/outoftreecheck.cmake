# Builds tests/plugins/outoftree as a project of its own against the exported Taskbench
# package, then loads the plugin it produced with tst_pluginloader's test_outOfTreePlugin.
#   MODE=buildtree: CMAKE_PREFIX_PATH=<Taskbench build dir>
#   MODE=install:   `cmake --install <build dir> --component sdk` into WORK_DIR/prefix first
# Fails (FATAL_ERROR) on any step, and when the package was found anywhere but where MODE says.
cmake_minimum_required(VERSION 3.25)
foreach(var MODE SOURCE_DIR WORK_DIR TASKBENCH_BUILD_DIR GENERATOR CXX_COMPILER LOADER_TEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "outoftreecheck.cmake: ${var} is not set")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
if(MODE STREQUAL "buildtree")
  set(prefix ${TASKBENCH_BUILD_DIR})
elseif(MODE STREQUAL "install")
  set(prefix ${WORK_DIR}/prefix)
  run_step("install of the sdk component"
    ${CMAKE_COMMAND} --install ${TASKBENCH_BUILD_DIR} --prefix ${prefix} --component sdk)
  foreach(f include/taskbench/sdk.h include/taskbench/value.h)
    if(NOT EXISTS ${prefix}/${f})
      message(FATAL_ERROR "install did not provide ${f}")
    endif()
  endforeach()
else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()

run_step("configure"
  ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
file(STRINGS ${WORK_DIR}/build/CMakeCache.txt taskbench_dir REGEX "^Taskbench_DIR:")
string(REGEX REPLACE "^Taskbench_DIR:[A-Z]+=" "" taskbench_dir "${taskbench_dir}")
file(REAL_PATH ${prefix} real_prefix)
file(REAL_PATH ${taskbench_dir} real_dir)
string(FIND "${real_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "Taskbench was found in ${real_dir}, not under ${real_prefix}")
endif()
run_step("build" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)

set(plugin ${WORK_DIR}/build/libhello.so)
if(NOT EXISTS ${plugin})
  message(FATAL_ERROR "the build did not produce ${plugin}")
endif()
set(ENV{TASKBENCH_OUTOFTREE_PLUGIN} ${plugin})
set(ENV{QT_QPA_PLATFORM} offscreen)
run_step("loading the plugin" ${LOADER_TEST} test_outOfTreePlugin)
if(NOT step_output MATCHES "PASS   : [A-Za-z_]+::test_outOfTreePlugin\\(\\)"
   OR step_output MATCHES "SKIP")
  message(FATAL_ERROR "test_outOfTreePlugin did not pass:\n${step_output}")
endif()
message(STATUS "out-of-tree plugin ${plugin} built against ${real_dir} and loaded")
