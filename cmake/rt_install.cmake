# cmake --install: the public headers (include/greenfut/), every library
# static and shared, the CMake package (find_package(greenfut)) and one
# pkg-config file per backend. The static libraries are the in-tree
# targets; each shared one is a twin built from the same sources and
# flags, so adding a source file to a folder's CMakeLists.txt adds it to
# both without touching this file.
include(CMakePackageConfigHelpers)

# Pre-1.0, every minor version may change the ABI (the portable macros
# expand to struct layouts), so the soname carries major.minor.
set(RT_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(RT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/greenfut)

# rt_add_shared_twin(STATIC_TGT SHARED_TGT): SHARED_TGT, the shared library
# of STATIC_TGT's sources with its compile flags, linked against the shared
# twins of the libraries STATIC_TGT links.
function(rt_add_shared_twin st sh)
  get_target_property(_dir ${st} SOURCE_DIR)
  get_target_property(_srcs ${st} SOURCES)
  set(_abs "")
  foreach(_s IN LISTS _srcs)
    get_filename_component(_a ${_s} ABSOLUTE BASE_DIR ${_dir})
    list(APPEND _abs ${_a})
  endforeach()
  add_library(${sh} SHARED ${_abs})
  foreach(_p INCLUDE_DIRECTORIES COMPILE_DEFINITIONS COMPILE_OPTIONS)
    get_target_property(_v ${st} ${_p})
    if(_v)
      set_property(TARGET ${sh} APPEND PROPERTY ${_p} ${_v})
    endif()
  endforeach()
  foreach(_p INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS)
    get_target_property(_v ${st} ${_p})
    if(_v)
      set_property(TARGET ${sh} APPEND PROPERTY ${_p} ${_v})
    endif()
  endforeach()
  # What the static library passes on stays public; the rest (Boost) is
  # the shared library's own dependency.
  get_target_property(_pub ${st} INTERFACE_LINK_LIBRARIES)
  get_target_property(_all ${st} LINK_LIBRARIES)
  foreach(_l IN LISTS _all)
    set(_vis PRIVATE)
    if(_pub AND _l IN_LIST _pub)
      set(_vis PUBLIC)
    endif()
    if(TARGET ${_l})
      get_target_property(_real ${_l} ALIASED_TARGET)
      if(_real AND TARGET ${_real}_shared)
        set(_l ${_real}_shared)
      elseif(TARGET ${_l}_shared)
        set(_l ${_l}_shared)
      endif()
    endif()
    target_link_libraries(${sh} ${_vis} ${_l})
  endforeach()
  get_target_property(_name ${st} OUTPUT_NAME)
  get_target_property(_exp ${st} EXPORT_NAME)
  set_target_properties(${sh} PROPERTIES OUTPUT_NAME ${_name}
    EXPORT_NAME ${_exp}_shared VERSION ${PROJECT_VERSION}
    SOVERSION ${RT_SOVERSION})
endfunction()

# Installed names: libgreenfut_<part>.{a,so}, greenfut::<part> and
# greenfut::<part>_shared.
set(_rt_parts common stackful stackless portable_stackful
  portable_stackless)
set(_rt_installed "")
foreach(_p IN LISTS _rt_parts)
  set_target_properties(rt_${_p} PROPERTIES OUTPUT_NAME greenfut_${_p}
    EXPORT_NAME ${_p})
  # Dependencies first: a twin links the twins made before it.
  rt_add_shared_twin(rt_${_p} rt_${_p}_shared)
  list(APPEND _rt_installed rt_${_p} rt_${_p}_shared)
endforeach()

install(TARGETS ${_rt_installed} EXPORT greenfutTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/greenfut
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The gdb extension (docs/debugging.md): `source <prefix>/share/greenfut/gdb/greenfut.py`,
# and gdb's auto-load file for the shared library that holds the dump
# (<datadir>/gdb/auto-load/<libdir>/libgreenfut_common.so.<version>-gdb.py,
# where gdb looks, and which its default safe path allows when the prefix is
# gdb's own, /usr). Programs linked statically carry the script in their
# .debug_gdb_scripts section instead (common/CMakeLists.txt).
install(FILES ${PROJECT_SOURCE_DIR}/tools/gdb/greenfut.py
  DESTINATION ${CMAKE_INSTALL_DATADIR}/greenfut/gdb)
set(RT_GDB_LIB libgreenfut_common.so.${PROJECT_VERSION})
set(RT_GDB_SCRIPT_INSTALLED
  ${CMAKE_INSTALL_FULL_DATADIR}/greenfut/gdb/greenfut.py)
configure_file(${PROJECT_SOURCE_DIR}/tools/gdb/greenfut-gdb.py.in
  ${PROJECT_BINARY_DIR}/${RT_GDB_LIB}-gdb.py @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/${RT_GDB_LIB}-gdb.py
  DESTINATION ${CMAKE_INSTALL_DATADIR}/gdb/auto-load/${CMAKE_INSTALL_FULL_LIBDIR})
install(EXPORT greenfutTargets NAMESPACE greenfut::
  DESTINATION ${RT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/greenfutConfig.cmake.in
  ${PROJECT_BINARY_DIR}/greenfutConfig.cmake INSTALL_DESTINATION ${RT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/greenfutConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/greenfutConfig.cmake
  ${PROJECT_BINARY_DIR}/greenfutConfigVersion.cmake
  DESTINATION ${RT_CMAKE_DIR})

# pkg-config: greenfut-stackful and greenfut-stackless, each the portable
# API with its backend's native one. Libs.private is what a static link
# adds (pkg-config --static): the shared libraries carry Boost themselves.
# The prefix is found from the .pc file's own place (${pcfiledir}), so an
# install moved elsewhere, or made with cmake --install --prefix, still works.
file(RELATIVE_PATH RT_PC_UP /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
foreach(_b stackful stackless)
  string(TOUPPER ${_b} RT_PC_BACKEND_UPPER)
  set(RT_PC_BACKEND ${_b})
  if(_b STREQUAL "stackful")
    set(RT_PC_LIBS_PRIVATE "-lboost_context -pthread")
  else()
    set(RT_PC_LIBS_PRIVATE "-pthread")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/greenfut.pc.in
    ${PROJECT_BINARY_DIR}/greenfut-${_b}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/greenfut-${_b}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
