#!/usr/bin/env bash
# Cross-builds the agent core for a Cortex-M3 (arm-none-eabi-gcc, -Os, no libc), runs the target
# test and the footprint application under QEMU (mps2-an385), and prints the footprint:
#   BENCH agent_flash_bytes       .text + .rodata (+ .data's initial values) of Vigil's objects
#                                 (agent, protocol core, Cortex-M port) after --gc-sections
#   BENCH agent_ram_bytes         .data + .bss of those objects, default capacities (config.h)
#   BENCH agent_stack_peak_bytes  the deepest stack the footprint application's agent calls used
# with a per-object table (mapsize.py). Budgets: flash <= 12 KiB, RAM <= 8 KiB.
#
# Exits 77 (ctest: skipped) when arm-none-eabi-g++ or qemu-system-arm is missing, non-zero when a
# build, a check in QEMU or a budget fails.
#
# Usage: agent/ports/cortex-m/run.sh [BUILD_DIR]      (default: build/cortex-m)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build/cortex-m}
cmake=${CMAKE:-cmake}
flash_budget=12288
ram_budget=8192

for tool in arm-none-eabi-g++ qemu-system-arm python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "run.sh: $tool not found (apt-get install gcc-arm-none-eabi binutils-arm-none-eabi" \
      "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-dev qemu-system-arm); skipped" >&2
    exit 77
  fi
done

generator=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
echo "== configure and build: Cortex-M3 ($build)"
"$cmake" -S "$here" -B "$build" --toolchain "$root/cmake/arm-none-eabi.cmake" "${generator[@]}" \
  >/dev/null
"$cmake" --build "$build" -j "$(nproc)"

# -icount: the guest clock counts instructions, so a run is deterministic and the timer interrupt
# can land between any two instructions; without it QEMU takes interrupts only between translated
# blocks, where a missing critical section goes unnoticed. Semihosting output goes to stdout.
run_qemu() {
  local elf=$1 code=0
  echo "== QEMU mps2-an385: $(basename "$elf")"
  timeout 120 qemu-system-arm -M mps2-an385 -icount shift=3,sleep=off -nographic \
    -monitor none -serial none -chardev stdio,id=semihosting \
    -semihosting-config enable=on,target=native,chardev=semihosting -kernel "$elf" || code=$?
  if ((code == 124)); then
    echo "run.sh: $(basename "$elf") did not finish within 120 s" >&2
  elif ((code != 0)); then
    echo "run.sh: $(basename "$elf") exited with $code" >&2
  fi
  return "$code"
}

status=0
run_qemu "$build/vigil_cm_test.elf" || status=1
run_qemu "$build/vigil_cm_footprint.elf" || status=1
echo "== footprint on Cortex-M3 (vigil_cm_footprint.elf)"
python3 "$here/mapsize.py" --flash-budget "$flash_budget" --ram-budget "$ram_budget" \
  "$build/vigil_cm_footprint.map" || status=1
exit $status
