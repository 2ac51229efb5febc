#!/usr/bin/env bash
# Builds the agent core alone, installs it under a prefix, then builds and runs an application
# that finds it with find_package(vigil) and links vigil::agent.
#
#   check_install.sh SOURCE_DIR WORK_DIR
#
# The core's configure runs with every other part off and with each lookup of another part's
# dependency disabled, so a lookup that escapes its option fails this test. CMAKE,
# VIGIL_CC and VIGIL_CXX in the environment choose cmake and the compilers.
set -euo pipefail
source_dir=$1
work=$2
cmake=${CMAKE:-cmake}
rm -rf "$work"
mkdir -p "$work"

compilers=()
[[ -n ${VIGIL_CC:-} ]] && compilers+=(-DCMAKE_C_COMPILER="$VIGIL_CC")
[[ -n ${VIGIL_CXX:-} ]] && compilers+=(-DCMAKE_CXX_COMPILER="$VIGIL_CXX")

disabled=()
for package in PkgConfig nlohmann_json SQLite3 FlatBuffers OpenSSL CLI11 tomlplusplus Threads \
               GTest rapidcheck benchmark; do
  disabled+=(-DCMAKE_DISABLE_FIND_PACKAGE_"$package"=ON)
done

echo "== the core alone"
"$cmake" --no-warn-unused-cli -S "$source_dir" -B "$work/core" "${compilers[@]}" "${disabled[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_POSIX=OFF -DVIGIL_BUILD_LWIP=OFF \
  -DVIGIL_BUILD_NETXDUO=OFF -DVIGIL_BUILD_LINUX_AGENT=OFF -DVIGIL_BUILD_HUB=OFF -DVIGIL_BUILD_CLI=OFF \
  -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF >"$work/core-configure.log"
"$cmake" --build "$work/core" -j 2 >"$work/core-build.log"
"$cmake" --install "$work/core" --prefix "$work/prefix" >"$work/install.log"

for installed in include/vigil/agent/vigil_agent.h include/vigil/agent/agent.hpp \
                 include/vigil/protocol/wire.h; do
  [[ -f $work/prefix/$installed ]] || { echo "not installed: $installed" >&2; exit 1; }
done
# What the core does not need stays out of the package.
if find "$work/prefix" -name 'message.h' -o -name '*hub*' | grep -q .; then
  echo "the package holds more than the core:" >&2
  find "$work/prefix" -name 'message.h' -o -name '*hub*' >&2
  exit 1
fi

echo "== an application against the installed package"
"$cmake" -S "$source_dir/tests/install/consumer" -B "$work/consumer" "${compilers[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/consumer-configure.log"
"$cmake" --build "$work/consumer" -j 2 >"$work/consumer-build.log"
"$work/consumer/consumer_c"
"$work/consumer/consumer_cpp"
echo "installed package consumed"
