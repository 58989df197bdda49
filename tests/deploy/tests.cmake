# Deployment artefacts (deploy/systemd, deploy/kubernetes, deploy/container): offline checks.
# Tools: systemd-analyze (Debian: systemd), yamllint, python3 with PyYAML (python3-yaml).
# A missing tool fails its test with the package to install; nothing is skipped silently.
# CMAKE_INSTALL_FULL_BINDIR: the top level includes GNUInstallDirs only after tests/.
include(GNUInstallDirs)
set(deploy_tests_dir ${CMAKE_CURRENT_LIST_DIR})
set(deploy_yaml
  ${PROJECT_SOURCE_DIR}/deploy/kubernetes
  ${PROJECT_SOURCE_DIR}/deploy/systemd/config.yaml
  ${PROJECT_SOURCE_DIR}/deploy/container/config.yaml)

# systemd-analyze verify + security on the unit; the unit agrees with deploy/systemd/config.yaml.
add_test(NAME deploy_systemd_unit
  COMMAND bash ${deploy_tests_dir}/check_systemd.sh ${PROJECT_SOURCE_DIR}
          $<TARGET_FILE:robofy-wa-bridge>)

# cmake --install lays out the binary, the unit and the example configurations.
add_test(NAME deploy_install_layout
  COMMAND bash ${deploy_tests_dir}/check_install.sh ${PROJECT_BINARY_DIR} ${CMAKE_INSTALL_FULL_BINDIR})

# yamllint over every deployment YAML file.
add_test(NAME deploy_yaml_lint
  COMMAND sh -c "command -v yamllint >/dev/null || { echo 'FAIL: yamllint is missing: install the Debian package yamllint'; exit 1; }; c=$1; shift; exec yamllint -s -c \"$c\" \"$@\"" --
          ${deploy_tests_dir}/yamllint.yaml ${deploy_yaml})
set_tests_properties(deploy_yaml_lint PROPERTIES COMMAND_EXPAND_LISTS ON)

# Every kustomization renders and keeps its invariants (and equals `kubectl kustomize` when
# kubectl is installed): the single-process base and example overlay; the replicas overlays (with
# components/replicas) on one Redis and on Redis with Sentinel; each Redis on its own. The
# bridge's ConfigMap config passes --check-config.
add_test(NAME deploy_kubernetes_manifests
  COMMAND /usr/bin/python3 ${deploy_tests_dir}/check_kubernetes.py
          --binary $<TARGET_FILE:robofy-wa-bridge>
          ${PROJECT_SOURCE_DIR}/deploy/kubernetes/base
          ${PROJECT_SOURCE_DIR}/deploy/kubernetes/overlays/example
          ${PROJECT_SOURCE_DIR}/deploy/kubernetes/overlays/replicas
          ${PROJECT_SOURCE_DIR}/deploy/kubernetes/overlays/replicas-sentinel
          ${PROJECT_SOURCE_DIR}/deploy/kubernetes/redis/single
          ${PROJECT_SOURCE_DIR}/deploy/kubernetes/redis/sentinel)
# The checker itself: every deliberately broken copy of the manifests must fail.
add_test(NAME deploy_kubernetes_checker_self_test
  COMMAND /usr/bin/python3 ${deploy_tests_dir}/check_kubernetes.py --self-test
          --binary $<TARGET_FILE:robofy-wa-bridge> ${PROJECT_SOURCE_DIR}/deploy/kubernetes)

# The container image's default config is valid, and its runtime packages cover `ldd` of the
# binary. Building the image itself is deploy/container/build.sh (minutes; not part of ctest).
add_test(NAME deploy_container_files
  COMMAND bash ${deploy_tests_dir}/check_container.sh ${PROJECT_SOURCE_DIR}
          $<TARGET_FILE:robofy-wa-bridge>)

set_tests_properties(deploy_systemd_unit deploy_install_layout deploy_yaml_lint
  deploy_kubernetes_manifests deploy_kubernetes_checker_self_test deploy_container_files
  PROPERTIES TIMEOUT 120 LABELS deploy)
