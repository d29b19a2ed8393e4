# find_package(siamcl): the imported target siamcl::siamcl (libsiamcl.so and the headers of
# include/siamcl/: siamcl.h, status.h).
include("${CMAKE_CURRENT_LIST_DIR}/siamclTargets.cmake")
