# The `make bench` tooling's smoke test: the load generator and the instant fakes run for ~2 s
# against the real bridge, so the tooling cannot rot.
add_test(NAME bench_smoke
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/smoke.sh $<TARGET_FILE:robofy-wa-bridge>
          $<TARGET_FILE:robofy-wa-bench-fakes> $<TARGET_FILE:robofy-wa-loadgen>
          $<TARGET_FILE:robofy-wa-floor-server>)
set_tests_properties(bench_smoke PROPERTIES TIMEOUT 60 PASS_REGULAR_EXPRESSION "bench smoke: ok")
