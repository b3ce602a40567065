# Warnings for every build; a Sanitize build type (ASan + UBSan, with
# LeakSanitizer, which ASan runs at exit on Linux) beside the usual Release
# and Debug. `make test` runs the whole suite in a Sanitize build made with
# clang, whose fuzz targets (fuzz/) come from the same build.
add_compile_options(-Wall -Wextra -Wno-unused-parameter)

set(COURIER_SANITIZE_FLAGS "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined")
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Coverage feedback for libFuzzer in every object of the build, so the
  # fuzz targets (linked with -fsanitize=fuzzer) see inside lib/; the
  # tests, linked without libFuzzer, get the sanitizer runtime's no-op
  # callbacks.
  string(APPEND COURIER_SANITIZE_FLAGS " -fsanitize=fuzzer-no-link")
endif()
set(CMAKE_CXX_FLAGS_SANITIZE "${COURIER_SANITIZE_FLAGS}"
    CACHE STRING "Flags for the Sanitize build type" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_SANITIZE "-fsanitize=address,undefined"
    CACHE STRING "Linker flags for the Sanitize build type" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_SANITIZE "-fsanitize=address,undefined"
    CACHE STRING "Shared linker flags for the Sanitize build type" FORCE)
mark_as_advanced(CMAKE_CXX_FLAGS_SANITIZE CMAKE_EXE_LINKER_FLAGS_SANITIZE
                 CMAKE_SHARED_LINKER_FLAGS_SANITIZE)
