# rt_target_warnings(target): our warning set, PRIVATE to the target, so
# nothing leaks into users' flags. -Werror only when RT_WERROR is ON (CI).
# It also turns on -fstack-clash-protection where the compiler has it: a
# frame larger than a page is then probed page by page as it is allocated,
# so a frame bigger than a green thread's guard (a large local, a big spawn
# template) faults in the guard, where the overflow reporter names the
# thread, instead of jumping it into whatever lies below (bench_spawn,
# bench_handoff and bench_yield measured no cost: the probes run only in
# frames of more than a page).
include(CheckCCompilerFlag)
check_c_compiler_flag(-fstack-clash-protection RT_HAVE_STACK_CLASH_PROTECTION)

function(rt_target_warnings tgt)
  target_compile_options(${tgt} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wold-style-definition -Wcast-qual
    -Wwrite-strings -Wundef -Wformat=2 -Wvla -Wimplicit-fallthrough)
  if(RT_HAVE_STACK_CLASH_PROTECTION)
    target_compile_options(${tgt} PRIVATE -fstack-clash-protection)
  endif()
  if(RT_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
  if(RT_DEBUG)
    target_compile_definitions(${tgt} PRIVATE RT_DEBUG=1)
  endif()
endfunction()
