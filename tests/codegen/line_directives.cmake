# -DCC=... -DSRC=wrong_signature.c -DINC1=dir -DINC2=dir [-DAT=routes.ht:N]: the
# compile must fail and name AT (default routes.ht:7, the route of `hello`) in
# its diagnostics.
if(NOT DEFINED AT)
  set(AT "routes.ht:7")
endif()
string(REPLACE "." "\\." _at "${AT}")
set(_args "-I${INC1}" "-I${INC2}")
execute_process(COMMAND "${CC}" -std=c2x -fsyntax-only ${_args} "${SRC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a function with the wrong signature compiled")
endif()
if(NOT err MATCHES "${_at}:")
  message(FATAL_ERROR "the diagnostics do not point at ${AT}:\n${err}")
endif()
