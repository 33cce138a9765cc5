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

# rt_add_valgrind_tests([TESTS t ...] [EXCLUDE t ...] [ENV VAR=value ...]):
# registers
# <test>_valgrind, the test's executable under valgrind memcheck (any error
# or a definite/indirect leak fails it), for each test named, or by default
# for every test of the current folder that is built from a target here and
# not labelled stress (1e5+ stacks or tasks take minutes under valgrind),
# minus the EXCLUDE list.
# Labels: valgrind plus the test's own, minus unit/stress/tsan, so that
# `ctest -L unit` stays fast. Not in sanitizer builds: valgrind cannot run
# ASan or TSan binaries.
function(rt_add_valgrind_tests)
  cmake_parse_arguments(V "" "" "TESTS;EXCLUDE;ENV" ${ARGN})
  find_program(RT_VALGRIND_EXE valgrind)
  if(NOT RT_VALGRIND_EXE OR CMAKE_C_FLAGS MATCHES "-fsanitize")
    return()
  endif()
  if(NOT V_TESTS)
    get_property(V_TESTS DIRECTORY PROPERTY TESTS)
  endif()
  foreach(_t IN LISTS V_TESTS)
    if(NOT TARGET ${_t} OR _t MATCHES "_valgrind$" OR _t IN_LIST V_EXCLUDE)
      continue()
    endif()
    get_test_property(${_t} LABELS _labels)
    if(NOT _labels)
      set(_labels "")
    endif()
    if("stress" IN_LIST _labels)
      continue()
    endif()
    list(REMOVE_ITEM _labels unit stress tsan valgrind)
    add_test(NAME ${_t}_valgrind
      COMMAND ${RT_VALGRIND_EXE} --error-exitcode=1 --leak-check=full
              --errors-for-leak-kinds=definite,indirect --quiet
              $<TARGET_FILE:${_t}>)
    set_tests_properties(${_t}_valgrind PROPERTIES
      LABELS "valgrind;${_labels}" TIMEOUT 300 SKIP_RETURN_CODE 77)
    if(V_ENV)
      set_tests_properties(${_t}_valgrind PROPERTIES ENVIRONMENT "${V_ENV}")
    endif()
  endforeach()
endfunction()
