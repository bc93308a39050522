# -DCC=... -DSRC=wrong_signature.c -DINC1=dir -DINC2=dir: the compile must fail and
# name routes.ht:7 (the route of `hello`) in its diagnostics.
set(_args "-I${INC1}" "-I${INC2}")
execute_process(COMMAND "${CC}" -std=c2x -fsyntax-only ${_args} "${SRC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a handler with the wrong parameter type compiled")
endif()
if(NOT err MATCHES "routes\\.ht:7:")
  message(FATAL_ERROR "the diagnostics do not point at routes.ht:7:\n${err}")
endif()
