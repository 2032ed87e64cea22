# Proves the layering is enforced by the compiler (run by ctest as
# layering.upward_include_fails; cmake -P, no build needed):
#  1. each layer's real compile commands (compile_commands.json) put no
#     include root on the path that reaches src/ as a whole;
#  2. from each layer's include root, a header of every layer below it
#     resolves, and including a header of any other layer fails to compile.
# Inputs: -DBUILD=<build dir> -DSRC=<source dir> -DCXX=<compiler>.
cmake_minimum_required(VERSION 3.25)
include(${BUILD}/layers/layers.cmake)  # LAYERS, CLOSURE_<layer>
set(failures 0)
macro(fail msg)
  message(SEND_ERROR "${msg}")
  math(EXPR failures "${failures} + 1")
endmacro()

# One header per layer, the first by name: the probe for "can L see M".
foreach(l ${LAYERS})
  file(GLOB hs RELATIVE ${SRC}/src ${SRC}/src/${l}/*.h)
  list(SORT hs)
  list(GET hs 0 HEADER_${l})
endforeach()

# 1. The flags the build really uses.
file(READ ${BUILD}/compile_commands.json cc)
string(JSON n LENGTH "${cc}")
math(EXPR last "${n} - 1")
set(checked 0)
foreach(i RANGE ${last})
  string(JSON file GET "${cc}" ${i} file)
  if(NOT file MATCHES "^${SRC}/src/([a-z_]+)/[^/]+\\.cc$")
    continue()
  endif()
  set(l ${CMAKE_MATCH_1})
  if(NOT l IN_LIST LAYERS)
    continue()  # cli/: the programs on top may see everything
  endif()
  string(JSON cmd GET "${cc}" ${i} command)
  string(REGEX MATCHALL "(-I|-isystem )[^ ]+" incs "${cmd}")
  foreach(inc ${incs})
    string(REGEX REPLACE "^(-I|-isystem )" "" dir "${inc}")
    if(dir STREQUAL "${SRC}/src" OR dir STREQUAL "${SRC}/src/" OR dir STREQUAL "${SRC}")
      fail("${file}: compiled with ${inc}, which lets it include any layer")
    endif()
  endforeach()
  math(EXPR checked "${checked} + 1")
endforeach()
if(checked EQUAL 0)
  fail("no layer source found in ${BUILD}/compile_commands.json")
endif()

# 2. What each layer's include root lets through.
set(probe ${BUILD}/layers/probe)
file(MAKE_DIRECTORY ${probe})
foreach(l ${LAYERS})
  set(root ${BUILD}/layers/${l})
  set(allowed "")
  foreach(m ${LAYERS})
    if(m IN_LIST CLOSURE_${l})
      string(APPEND allowed "#include \"${HEADER_${m}}\"\n")
    else()
      # The upward (or sideways) include must be what stops the compile.
      file(WRITE ${probe}/${l}_${m}.cc "#include \"${HEADER_${m}}\"\n")
      execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I ${root} ${probe}/${l}_${m}.cc
                      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
      if(rc EQUAL 0)
        fail("layer ${l} can include ${HEADER_${m}} (${m} is not below ${l})")
      elseif(NOT out MATCHES "error: '?${HEADER_${m}}'?:? (No such file|file not found)")
        fail("layer ${l} including ${HEADER_${m}} failed for another reason:\n${out}")
      endif()
    endif()
  endforeach()
  # -MM -MG: resolve every include without needing the libraries' own
  # headers; a found header is listed under the include root.
  file(WRITE ${probe}/${l}.cc "${allowed}")
  execute_process(COMMAND ${CXX} -std=c++20 -MM -MG -I ${root} ${probe}/${l}.cc
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  foreach(m ${CLOSURE_${l}})
    if(NOT rc EQUAL 0 OR NOT out MATCHES "${root}/${HEADER_${m}}")
      fail("layer ${l} cannot include ${HEADER_${m}} from ${root}:\n${out}")
    endif()
  endforeach()
endforeach()

list(LENGTH LAYERS nl)
if(failures GREATER 0)
  message(FATAL_ERROR "layering: ${failures} problem(s)")
endif()
message(STATUS "layering: ${nl} layers, ${checked} compile commands, every upward include fails")
