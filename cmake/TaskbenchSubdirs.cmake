# taskbench_add_subdirectories(): adds every direct subfolder that has a CMakeLists.txt, in
# name order, so modules can be added without editing a shared list. TASKBENCH_SKIP_DIRS (a
# list of folder names) leaves some out, for a quick partial build while developing.
function(taskbench_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(child IN_LIST TASKBENCH_SKIP_DIRS)
      continue()
    endif()
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
