# Debian 12 packages the scripts install, in one place so the scripts cannot drift apart.
# Sourced by scripts/demo, scripts/test, scripts/bench and scripts/fuzz.
#
#   vigil_install_packages NAME...   installs what is missing (apt-get, as root) from the groups

# What configuring the whole tree needs (every preset): compilers, CMake and the libraries the
# programs link.
vigil_packages_build=(
  build-essential cmake ninja-build git pkg-config
  nlohmann-json3-dev libpcap-dev
  # vigil-agent (linux-agent/) and the lwIP device (agent/ports/lwip, agent/examples/lwip-device)
  libmosquitto-dev libssl-dev libtomlplusplus-dev libcli11-dev liblwip-dev liblwip0
  # vigil-hub (hub/)
  flatbuffers-compiler libflatbuffers-dev libsqlite3-dev libcpp-httplib-dev
  # the embedded broker's guard plugin (hub/broker/plugin): mosquitto_broker.h, mosquitto_plugin.h
  mosquitto-dev
)
# What running the programs and the demo needs besides.
vigil_packages_run=(
  python3 python3-cbor2 mosquitto mosquitto-clients openssl iproute2 iputils-ping tcpdump
  net-tools ethtool sqlite3
)
# The test frameworks, sanitizers and tools of the tests and benchmarks.
vigil_packages_test=(
  clang-14 libclang-rt-14-dev clang-format-14
  googletest libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev valgrind
  # The detection scenarios: real scans and floods inside the tests' own namespaces, the
  # synthetic device lives written with scapy, and an HTTP client on the device.
  nmap hping3 python3-scapy curl
  # The dashboard's browser tests (tests/web): Debian's chromium, driven headless by
  # playwright-core (vigil_install_web_tests), never a browser downloaded by npm.
  chromium
)
# The Cortex-M build of the agent core and QEMU to run it (tests/cortex_m, the footprint).
vigil_packages_cortex_m=(
  gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev
  qemu-system-arm
)

vigil_install_packages() {
  local group package missing=()
  for group in "$@"; do
    local -n list="vigil_packages_$group"
    for package in "${list[@]}"; do
      dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$package")
    done
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if ((EUID != 0)); then
    echo "missing packages (${missing[*]}); run as root to install them" >&2
    return 1
  fi
  echo "== installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Node.js and npm from Debian, for the dashboard's npm packages, when the machine has none.
vigil_packages_web=(nodejs npm)

vigil_install_npm() {
  command -v npm >/dev/null 2>&1 || vigil_install_packages web
}

# vigil_npm_ci DIR FILE WHAT: the packages of DIR's package-lock.json, unless DIR/FILE shows they
# are there already.
vigil_npm_ci() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  [[ -e "$root/$1/$2" ]] && return 0
  vigil_install_npm || return 1
  echo "== installing $3 ($1)" >&2
  npm ci --prefix "$root/$1" --no-audit --no-fund >/dev/null
}

# The dashboard's npm packages (hub/web/package-lock.json: uPlot), which vigil-hub serves from
# hub/web/node_modules.
vigil_install_web() {
  vigil_npm_ci hub/web node_modules/uplot/dist/uPlot.iife.min.js "the dashboard's npm packages"
}

# The dashboard's browser tests: playwright-core, pinned in tests/web/package-lock.json, into
# tests/web/node_modules. It drives Debian's chromium (the test group) and downloads no browser
# of its own.
vigil_install_web_tests() {
  vigil_npm_ci tests/web node_modules/playwright-core "the browser tests' npm packages"
}
