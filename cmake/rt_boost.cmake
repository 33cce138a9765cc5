# Boost.Context: we use only its three C-ABI symbols (jump_fcontext,
# make_fcontext, ontop_fcontext). Debian 12's libboost-context-dev (1.74)
# exports them; Boost 1.87 and later hide them, so check that they link.
include(CheckCSourceCompiles)
include(CMakePushCheckState)

#
# Boost's own boost_context-config.cmake cannot be used from a C-only project
# (its toolset detection reads the C++ compiler's version), so we find the
# library itself and prove with a link test that the symbols are there.
find_library(RT_BOOST_CONTEXT_LIB NAMES boost_context)
if(NOT RT_BOOST_CONTEXT_LIB)
  message(FATAL_ERROR "Boost.Context not found: install libboost-context-dev "
    "(Boost 1.74-1.86; 1.87+ hides the C symbols we link)")
endif()

cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_LIBRARIES ${RT_BOOST_CONTEXT_LIB})
check_c_source_compiles([=[
typedef void *fcontext_t;
typedef struct { fcontext_t fctx; void *data; } transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, unsigned long size, void (*fn)(transfer_t));
int main(void) { return jump_fcontext != 0 && make_fcontext != 0 ? 0 : 1; }
]=] RT_HAVE_FCONTEXT_C_ABI)
cmake_pop_check_state()
if(NOT RT_HAVE_FCONTEXT_C_ABI)
  message(FATAL_ERROR "${RT_BOOST_CONTEXT_LIB} does not export jump_fcontext/"
    "make_fcontext as C symbols: needs libboost-context-dev 1.74-1.86 "
    "(1.87+ hides the C symbols)")
endif()

# Named as the installed package names it (greenfutConfig.cmake), so that
# the exported link interface of the static stackful library refers to it.
add_library(greenfut::boost_context UNKNOWN IMPORTED GLOBAL)
set_target_properties(greenfut::boost_context PROPERTIES
  IMPORTED_LOCATION ${RT_BOOST_CONTEXT_LIB})
add_library(rt_boost_context ALIAS greenfut::boost_context)
