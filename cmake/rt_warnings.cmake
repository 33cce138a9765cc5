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
# gcc's -Wjump-misses-init: a goto or switch that jumps past a local's
# initialisation. On the stackless backend every await is a resume point of
# a switch, so it flags a local initialised in the body before an await and
# still in scope after it (rule 3 of include/greenfut/rt.h); rt_portable_checks().
check_c_compiler_flag(-Wjump-misses-init RT_HAVE_WJUMP_MISSES_INIT)

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

# rt_portable_checks(target): what a target that compiles portable tasks
# (include/greenfut/rt.h) on the stackless backend gets in debug builds: the one
# warning that catches locals kept across an await (rt.h, rule 3), made an
# error with RT_WERROR like the rest. A usage requirement of
# rt_portable_stackless (INTERFACE), so every test, benchmark and example
# built on it is checked, and only with RT_DEBUG, so a user's own build is
# never given a warning it did not ask for.
function(rt_portable_checks tgt)
  if(RT_DEBUG AND RT_HAVE_WJUMP_MISSES_INIT)
    target_compile_options(${tgt} INTERFACE -Wjump-misses-init)
  endif()
endfunction()
