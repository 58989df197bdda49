# `make bench` tooling (tests/bench/run.sh): our load generator and an instant fake Robofy + Graph.
# The smoke test runs both for ~2 s against the real bridge so the tooling cannot rot.
if(TARGET bridge_test_support)
  add_executable(robofy-wa-loadgen ${CMAKE_CURRENT_LIST_DIR}/loadgen.cpp)
  target_link_libraries(robofy-wa-loadgen PRIVATE bridge_test_support bridge_build_flags)

  add_executable(robofy-wa-bench-fakes ${CMAKE_CURRENT_LIST_DIR}/fakes.cpp)
  target_link_libraries(robofy-wa-bench-fakes PRIVATE bridge_test_support bridge_build_flags)

  add_test(NAME bench_smoke
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/smoke.sh $<TARGET_FILE:robofy-wa-bridge>
            $<TARGET_FILE:robofy-wa-bench-fakes> $<TARGET_FILE:robofy-wa-loadgen>)
  set_tests_properties(bench_smoke PROPERTIES TIMEOUT 60 PASS_REGULAR_EXPRESSION "bench smoke: ok")
endif()
