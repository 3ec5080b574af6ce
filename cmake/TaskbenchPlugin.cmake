# taskbench_add_plugin(<name> <sources>...): builds a Taskbench plugin (a SHARED library
# that sees only the SDK) into the plugins folder. Used in-tree and, through the installed
# TaskbenchConfig.cmake, by out-of-tree plugins.
function(taskbench_add_plugin name)
  add_library(${name} SHARED ${ARGN})
  if(TARGET Taskbench::Sdk)
    target_link_libraries(${name} PRIVATE Taskbench::Sdk)
  endif()
  if(TARGET taskbench_warnings)
    target_link_libraries(${name} PRIVATE taskbench_warnings)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED TASKBENCH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${TASKBENCH_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
