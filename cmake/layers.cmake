# The layers of src/LAYERS in the build (read through tools/check_layers.py, the one parser):
#   ZT_MODULES                  the layer ids, bottom first ("cloud/api" → cloud_api; library zt_<id>)
#   ZT_LAYER_FILES_<id>         the files of src/ the layer owns
#   ZT_LAYER_MAY_LINK_<id>      the layers below it that it is not kept apart from
#   ZT_OWNER_<file>             the layer id owning src/<file>
# and each layer's include root, <build>/include-roots/<id>/<path> → src/<path> for its own headers
# only, so a library that includes a layer it does not link fails to compile.

set(ZT_INCLUDE_ROOTS ${PROJECT_BINARY_DIR}/include-roots)

macro(zt_read_layers)
  set(layers_cmake ${PROJECT_BINARY_DIR}/layers.cmake)
  execute_process(COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/check_layers.py
                          --root ${PROJECT_SOURCE_DIR} --cmake ${layers_cmake}
                  RESULT_VARIABLE layers_result ERROR_VARIABLE layers_error)
  if(NOT layers_result EQUAL 0)
    message(FATAL_ERROR "src/LAYERS: ${layers_error}")
  endif()
  # Re-read when the layer file or the parser changes, or a source file comes or goes.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/LAYERS
                                                                 ${PROJECT_SOURCE_DIR}/tools/check_layers.py)
  file(GLOB_RECURSE layers_watch CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.cpp
       ${PROJECT_SOURCE_DIR}/src/*.hpp ${PROJECT_SOURCE_DIR}/src/*.h)
  include(${layers_cmake})
  set(ZT_MODULES ${ZT_LAYERS})
  file(REMOVE_RECURSE ${ZT_INCLUDE_ROOTS})
  foreach(id IN LISTS ZT_MODULES)
    file(MAKE_DIRECTORY ${ZT_INCLUDE_ROOTS}/${id})
    foreach(file IN LISTS ZT_LAYER_FILES_${id})
      set(ZT_OWNER_${file} ${id})
      if(file MATCHES "\\.h(pp)?$")
        get_filename_component(directory ${ZT_INCLUDE_ROOTS}/${id}/${file} DIRECTORY)
        file(MAKE_DIRECTORY ${directory})
        file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${file} ${ZT_INCLUDE_ROOTS}/${id}/${file} SYMBOLIC)
      endif()
    endforeach()
  endforeach()
endmacro()

# The directories to add_subdirectory, in layer order: for each layer, the nearest CMakeLists.txt
# above its first file (src/cloud/registry/ has none, so src/cloud/CMakeLists.txt builds it).
function(zt_module_directories out)
  set(directories)
  foreach(id IN LISTS ZT_MODULES)
    if(NOT ZT_LAYER_FILES_${id})
      continue()
    endif()
    list(GET ZT_LAYER_FILES_${id} 0 first)
    get_filename_component(directory ${PROJECT_SOURCE_DIR}/src/${first} DIRECTORY)
    while(NOT EXISTS ${directory}/CMakeLists.txt AND NOT directory STREQUAL PROJECT_SOURCE_DIR)
      get_filename_component(directory ${directory} DIRECTORY)
    endwhile()
    list(APPEND directories ${directory})
  endforeach()
  list(REMOVE_DUPLICATES directories)
  set(${out} ${directories} PARENT_SCOPE)
endfunction()

# zt_layer_library(<layer> [EXCLUDE <regex>] LINK <libraries>...): the library zt_<id> of the
# layer's .cpp files (those matching EXCLUDE left out), none if it has none yet.
function(zt_layer_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXCLUDE" "LINK")
  string(REPLACE "/" "_" id ${name})
  set(sources)
  foreach(file IN LISTS ZT_LAYER_FILES_${id})
    if(file MATCHES "\\.cpp$" AND NOT (arg_EXCLUDE AND file MATCHES "${arg_EXCLUDE}"))
      list(APPEND sources ${PROJECT_SOURCE_DIR}/src/${file})
    endif()
  endforeach()
  if(sources)
    add_library(zt_${id} STATIC ${sources})
    target_link_libraries(zt_${id} PUBLIC ${arg_LINK})
  endif()
endfunction()

# After the modules are added: each library gets its include root, and its links are checked
# against the list (a library that links a layer above it, or one kept apart, stops the configure).
function(zt_check_module_libraries)
  foreach(id IN LISTS ZT_MODULES)
    set(has_sources OFF)
    foreach(file IN LISTS ZT_LAYER_FILES_${id})
      if(file MATCHES "\\.cpp$")
        set(has_sources ON)
      endif()
    endforeach()
    if(NOT TARGET zt_${id})
      if(has_sources)
        message(FATAL_ERROR "src/LAYERS: layer ${ZT_LAYER_NAME_${id}} has sources but no library zt_${id}")
      endif()
      continue()
    endif()
    target_include_directories(zt_${id} PUBLIC ${ZT_INCLUDE_ROOTS}/${id})
    get_target_property(links zt_${id} LINK_LIBRARIES)
    foreach(link IN LISTS links)
      if(link MATCHES "^zt_(.+)$" AND CMAKE_MATCH_1 IN_LIST ZT_MODULES)
        if(NOT CMAKE_MATCH_1 IN_LIST ZT_LAYER_MAY_LINK_${id})
          message(FATAL_ERROR "zt_${id} links ${link}: ${ZT_LAYER_NAME_${id}} may not use "
                              "${ZT_LAYER_NAME_${CMAKE_MATCH_1}} (src/LAYERS)")
        endif()
      endif()
    endforeach()
  endforeach()
endfunction()

# zt_link_what_it_includes(<target> <sources>...): links <target> (a test, benchmark or fuzz target)
# to the library of every layer its sources include, following their own quoted headers (beside
# them, or under tests/).
function(zt_link_what_it_includes target)
  set(pending ${ARGN})
  set(seen)
  set(libraries)
  while(pending)
    list(POP_FRONT pending file)
    if(file IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${file})
    get_filename_component(directory ${file} DIRECTORY)
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([^\"]+)\".*$" "\\1" include "${line}")
      if(DEFINED ZT_OWNER_${include} AND TARGET zt_${ZT_OWNER_${include}})
        list(APPEND libraries zt_${ZT_OWNER_${include}})
      elseif(DEFINED ZT_OWNER_${include})  # a layer of headers only
        target_include_directories(${target} PRIVATE ${ZT_INCLUDE_ROOTS}/${ZT_OWNER_${include}})
      elseif(EXISTS ${directory}/${include})
        get_filename_component(beside ${directory}/${include} ABSOLUTE)
        list(APPEND pending ${beside})
      elseif(EXISTS ${PROJECT_SOURCE_DIR}/tests/${include})  # shared test helpers
        list(APPEND pending ${PROJECT_SOURCE_DIR}/tests/${include})
      endif()
    endforeach()
  endwhile()
  list(REMOVE_DUPLICATES libraries)
  target_link_libraries(${target} PRIVATE ${libraries})
endfunction()
