# Native benchmarks of the futures backend (docs/stackless.md has the
# numbers and the commands that measured them; use a release tree).
foreach(_b handoff spawn parked)
  add_executable(bench_sl_${_b} ${CMAKE_CURRENT_LIST_DIR}/bench_sl_${_b}.c)
  target_compile_definitions(bench_sl_${_b} PRIVATE _GNU_SOURCE)
  target_link_libraries(bench_sl_${_b} PRIVATE rt::stackless)
  rt_target_warnings(bench_sl_${_b})
endforeach()
