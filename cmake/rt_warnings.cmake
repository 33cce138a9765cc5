# rt_target_warnings(target): our warning set, PRIVATE to the target, so
# nothing leaks into users' flags. -Werror only when RT_WERROR is ON (CI).
function(rt_target_warnings tgt)
  target_compile_options(${tgt} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wold-style-definition -Wcast-qual
    -Wwrite-strings -Wundef -Wformat=2 -Wvla -Wimplicit-fallthrough)
  if(RT_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
  if(RT_DEBUG)
    target_compile_definitions(${tgt} PRIVATE RT_DEBUG=1)
  endif()
endfunction()
