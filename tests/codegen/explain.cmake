cmake_minimum_required(VERSION 3.20)
# htgen --explain's printed text (cmake -P):
#   -DHTGEN=... -DDIR=<tests/codegen/explain> -DROUTING=<examples/routing/routes.ht>
# Each DIR/NAME.req names a routes file on its first line (ROUTING_EXAMPLE, or a
# file in DIR) and one request a line after it; htgen --explain's output for
# them must equal DIR/NAME.txt (UPDATE_GOLDEN=1 in the environment rewrites it).
file(GLOB cases "${DIR}/*.req")
if(NOT cases)
  message(FATAL_ERROR "no cases in ${DIR}")
endif()
foreach(c ${cases})
  file(STRINGS "${c}" lines)
  list(POP_FRONT lines routes)
  if(routes STREQUAL "ROUTING_EXAMPLE")
    set(routes "${ROUTING}")
  else()
    set(routes "${DIR}/${routes}")
  endif()
  get_filename_component(wd "${routes}" DIRECTORY)
  get_filename_component(rf "${routes}" NAME)
  execute_process(COMMAND "${HTGEN}" --explain "${rf}" ${lines} WORKING_DIRECTORY "${wd}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${c}: htgen --explain failed (${rc}):\n${err}")
  endif()
  string(REGEX REPLACE "\\.req$" ".txt" want_file "${c}")
  if(DEFINED ENV{UPDATE_GOLDEN})
    file(WRITE "${want_file}" "${out}")
  endif()
  file(READ "${want_file}" want)
  if(NOT out STREQUAL want)
    message(FATAL_ERROR "${c}: htgen --explain printed\n${out}\nwhich differs from ${want_file}")
  endif()
endforeach()
# Not a request: exit status 2, a message on stderr, nothing on stdout.
execute_process(COMMAND "${HTGEN}" --explain "${ROUTING}" "users/42"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT out STREQUAL "" OR NOT err MATCHES "is not a request")
  message(FATAL_ERROR "--explain 'users/42': status ${rc}, stdout '${out}', stderr '${err}'")
endif()
# --host is --explain's: alone, a usage error.
execute_process(COMMAND "${HTGEN}" --check "${ROUTING}" --host api.example.com
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT out STREQUAL "" OR NOT err MATCHES "usage")
  message(FATAL_ERROR "--check --host: status ${rc}, stdout '${out}', stderr '${err}'")
endif()
