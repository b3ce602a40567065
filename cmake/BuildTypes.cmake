# Warnings for every build; a Sanitize build type (ASan + UBSan, with
# LeakSanitizer, which ASan runs at exit on Linux) beside the usual Release
# and Debug. `make test` runs the whole suite in a Sanitize build made with
# clang, whose fuzz targets (fuzz/) come from the same build.
add_compile_options(-Wall -Wextra -Wno-unused-parameter)

# lld where it is installed (scripts/install-deps.sh installs it): it
# links the test programs, over 100 MB with the sanitizers, several times
# faster than BFD ld. Linking changes no code: the programs are compiled
# exactly as before.
include(CheckLinkerFlag)
check_linker_flag(CXX "-fuse-ld=lld" COURIER_HAVE_LLD)
if(COURIER_HAVE_LLD)
  add_link_options(-fuse-ld=lld)
endif()

# Line tables, not full debug info: the sanitizers' reports keep every
# frame with its file and line (inlined frames too); what goes is the
# description of variables and types, for a debugger (BUILD_TYPE=Debug),
# which took 15% of a lib/ file's compile time and 40% of a test file's.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(COURIER_SANITIZE_DEBUG "-gline-tables-only")
else()
  set(COURIER_SANITIZE_DEBUG "-g1")
endif()
set(COURIER_SANITIZE_FLAGS "-O1 ${COURIER_SANITIZE_DEBUG} -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined")
# libFuzzer's coverage feedback (-fsanitize=fuzzer-no-link) goes on the
# objects of lib/ alone (CMakeLists.txt), which the fuzz targets need to
# see into; the tests and the programs, linked without libFuzzer, get the
# sanitizer runtime's no-op callbacks for it. Their own objects gain
# nothing from it and compiled a sixth slower with it.
set(CMAKE_CXX_FLAGS_SANITIZE "${COURIER_SANITIZE_FLAGS}"
    CACHE STRING "Flags for the Sanitize build type" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_SANITIZE "-fsanitize=address,undefined"
    CACHE STRING "Linker flags for the Sanitize build type" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_SANITIZE "-fsanitize=address,undefined"
    CACHE STRING "Shared linker flags for the Sanitize build type" FORCE)
mark_as_advanced(CMAKE_CXX_FLAGS_SANITIZE CMAKE_EXE_LINKER_FLAGS_SANITIZE
                 CMAKE_SHARED_LINKER_FLAGS_SANITIZE)
