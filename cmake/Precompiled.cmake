# Precompiled headers for the targets with many sources. Every file of
# lib/ parsed the standard library and POCO's JSON (core/json.h) again, and
# every test file GoogleTest on top: half a lib/ file's compile time, a
# third of a test file's. Only third-party headers are precompiled, so a
# change to a courier header rebuilds no more than before; a source must
# still include what it uses (a build with
# -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON checks that).
set(COURIER_PCH_STD
  <algorithm> <array> <atomic> <chrono> <condition_variable> <cstdint> <cstring>
  <deque> <functional> <map> <memory> <mutex> <optional> <set> <sstream>
  <string> <string_view> <thread> <unordered_map> <utility> <variant> <vector>)
set(COURIER_PCH_POCO <Poco/JSON/Array.h> <Poco/JSON/Object.h> <Poco/JSON/Parser.h>)

function(courier_precompile_lib target)
  target_precompile_headers(${target} PRIVATE ${COURIER_PCH_STD} ${COURIER_PCH_POCO})
endfunction()

function(courier_precompile_tests target)
  target_precompile_headers(${target} PRIVATE ${COURIER_PCH_STD} <filesystem> <fstream>
                            ${COURIER_PCH_POCO} <gtest/gtest.h>)
endfunction()
