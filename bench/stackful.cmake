# Native benchmarks of the green-thread backend (docs/stackful.md has the
# numbers and the commands). bench_sf_switch calls jump_fcontext itself for
# its in-process baseline, so it links Boost.Context too.
add_executable(bench_sf_switch ${CMAKE_CURRENT_LIST_DIR}/bench_sf_switch.c)
target_link_libraries(bench_sf_switch PRIVATE rt::stackful rt_boost_context)
target_compile_definitions(bench_sf_switch PRIVATE _GNU_SOURCE)
rt_target_warnings(bench_sf_switch)

add_executable(bench_sf_park ${CMAKE_CURRENT_LIST_DIR}/bench_sf_park.c)
target_compile_definitions(bench_sf_park PRIVATE _GNU_SOURCE)
target_link_libraries(bench_sf_park PRIVATE rt::stackful)
rt_target_warnings(bench_sf_park)
