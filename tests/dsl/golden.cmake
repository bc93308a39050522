# Golden diagnostics for one routes.ht case (run with cmake -P):
#   -DHTGEN=... -DCASES=<dir> -DCASE=<name> -DTMP=<scratch dir>
# Checks: htgen --check exits 1 and its stderr equals <name>.err byte for byte;
# htgen -o TMP also exits 1 and leaves TMP empty (no output on error).
# UPDATE_GOLDEN=1 in the environment rewrites the .err file instead.
execute_process(COMMAND "${HTGEN}" --check "${CASE}.ht"
                WORKING_DIRECTORY "${CASES}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(DEFINED ENV{UPDATE_GOLDEN})
  file(WRITE "${CASES}/${CASE}.err" "${err}")
endif()
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "${CASE}: htgen --check exited ${rc}, expected 1\n${err}")
endif()
if(NOT out STREQUAL "")
  message(FATAL_ERROR "${CASE}: unexpected stdout:\n${out}")
endif()
file(READ "${CASES}/${CASE}.err" want)
if(NOT err STREQUAL want)
  message(FATAL_ERROR "${CASE}: diagnostics differ.\n--- expected\n${want}--- got\n${err}")
endif()

file(REMOVE_RECURSE "${TMP}")
file(MAKE_DIRECTORY "${TMP}")
execute_process(COMMAND "${HTGEN}" "${CASE}.ht" -o "${TMP}"
                WORKING_DIRECTORY "${CASES}"
                RESULT_VARIABLE rc2 OUTPUT_QUIET ERROR_VARIABLE err2)
if(NOT rc2 EQUAL 1)
  message(FATAL_ERROR "${CASE}: htgen -o exited ${rc2}, expected 1")
endif()
if(NOT err2 STREQUAL want)
  message(FATAL_ERROR "${CASE}: htgen -o printed other diagnostics than --check:\n${err2}")
endif()
file(GLOB left LIST_DIRECTORIES true "${TMP}/*" "${TMP}/.*")
if(left)
  message(FATAL_ERROR "${CASE}: files written despite errors: ${left}")
endif()
file(REMOVE_RECURSE "${TMP}")
