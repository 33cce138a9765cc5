# rt_add_test(NAME name SOURCES a.c ... LIBS lib ... LABELS l ... [TIMEOUT s])
# One file = one executable = one CTest test. Exit 77 means "skipped".
function(rt_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;DEFS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 30)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  rt_target_warnings(${T_NAME})
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${T_NAME} PRIVATE _GNU_SOURCE)
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS})
  if(T_DEFS)
    target_compile_definitions(${T_NAME} PRIVATE ${T_DEFS})
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES
    LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77)
endfunction()

# rt_add_tests_in(DIR LIBS ... LABELS ...): registers every test_*.c of a
# folder, so no test can be forgotten by a hand-kept list. The test name is
# <folder>_<file stem without test_>.
function(rt_add_tests_in)
  cmake_parse_arguments(T "" "PREFIX" "LIBS;LABELS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.c)
  foreach(_src IN LISTS _srcs)
    get_filename_component(_stem ${_src} NAME_WE)
    string(REGEX REPLACE "^test_" "" _stem ${_stem})
    rt_add_test(NAME ${T_PREFIX}_${_stem} SOURCES ${_src}
      LIBS ${T_LIBS} LABELS ${T_LABELS})
  endforeach()
endfunction()
