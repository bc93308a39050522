# The README's "Routes" example compiles as shown (cmake -P):
#   -DHTGEN=... -DCC=... -DREADME=README.md -DINC=<runtime/include> -DTMP=<dir>
# The first code block of the "## Routes" section is the routes file; htgen
# compiles it, then every handler it names is defined as the header declares
# it (PREFIX_NAME, context first) in a file that also includes <strings.h>,
# whose index(3) a handler named `index` once collided with; that file and
# the generated dispatch must compile without a warning.
cmake_policy(SET CMP0057 NEW) # if(IN_LIST)
file(READ "${README}" text)
string(FIND "${text}" "\n## Routes" at)
set(routes "")
if(at GREATER -1)
  string(SUBSTRING "${text}" ${at} -1 text)
  string(REGEX MATCH "\n```\n([^`]*)```" _ "${text}")
  set(routes "${CMAKE_MATCH_1}")
endif()
if(routes STREQUAL "")
  message(FATAL_ERROR "README.md: no routes block in the Routes section")
endif()
if(NOT routes MATCHES "-> index")
  message(FATAL_ERROR "README.md: the Routes example no longer has a handler named index")
endif()
file(REMOVE_RECURSE "${TMP}")
file(MAKE_DIRECTORY "${TMP}/gen" "${TMP}/public")
file(WRITE "${TMP}/routes.ht" "${routes}")
execute_process(COMMAND "${HTGEN}" routes.ht -o gen WORKING_DIRECTORY "${TMP}"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "htgen rejects the README's routes (${rc}):\n${err}")
endif()
string(REGEX MATCH "\nprefix[ \t]+([A-Za-z0-9_]+)" _ "\n${routes}")
set(P "${CMAKE_MATCH_1}")
set(ctx void)
if("\n${routes}" MATCHES "\ncontext[ \t]+(struct|union)[ \t]+([A-Za-z0-9_]+)")
  set(ctx "${CMAKE_MATCH_1} ${CMAKE_MATCH_2}")
endif()
string(REGEX MATCHALL "->[ \t]+[A-Za-z0-9_]+" arrows "${routes}")
set(c "#define _DEFAULT_SOURCE\n#include <string.h>\n#include <strings.h>\n\n#include \"${P}_routes.h\"\n\n")
set(seen "")
foreach(a IN LISTS arrows)
  string(REGEX REPLACE "->[ \t]+" "" h "${a}")
  if(h IN_LIST seen)
    continue()
  endif()
  list(APPEND seen "${h}")
  string(APPEND c "void ${P}_${h}(${ctx}* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,\n"
                  "    const ${P}_${h}_params_t* p) {\n    (void) ctx, (void) req, (void) res, (void) a, (void) p;\n}\n")
endforeach()
file(WRITE "${TMP}/handlers.c" "${c}")
foreach(src handlers.c gen/${P}_dispatch.c)
  execute_process(COMMAND "${CC}" -std=c2x -fsyntax-only -Wall -Wextra -Wmissing-prototypes -Werror
                          -Igen "-I${INC}" "${src}"
                  WORKING_DIRECTORY "${TMP}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the README's routes: ${src} does not compile:\n${err}")
  endif()
endforeach()
