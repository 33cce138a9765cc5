# Native benchmarks of the green-thread backend (docs/stackful.md quotes
# their rows in the reference run). bench_sf_switch calls jump_fcontext itself for
# its in-process baseline, so it links Boost.Context too.
add_executable(bench_sf_switch ${CMAKE_CURRENT_LIST_DIR}/bench_sf_switch.c)
target_link_libraries(bench_sf_switch PRIVATE rt::stackful rt_boost_context)
target_include_directories(bench_sf_switch PRIVATE ${PROJECT_SOURCE_DIR}/stackful)
# The variant its rows carry: how the scheduler enters jump_fcontext.
if(RT_STACKFUL_PLAIN_CALL)
  set(_switch_variant plain_call)
else()
  set(_switch_variant push_jmp)
endif()
target_compile_definitions(bench_sf_switch PRIVATE _GNU_SOURCE
  SWITCH_VARIANT="${_switch_variant}")
rt_target_warnings(bench_sf_switch)

add_executable(bench_sf_park ${CMAKE_CURRENT_LIST_DIR}/bench_sf_park.c)
target_compile_definitions(bench_sf_park PRIVATE _GNU_SOURCE)
target_link_libraries(bench_sf_park PRIVATE rt::stackful rt_bench_harness)
rt_target_warnings(bench_sf_park)
