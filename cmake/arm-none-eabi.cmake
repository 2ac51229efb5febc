# Cross-compiles for a bare-metal Cortex-M with Debian's gcc-arm-none-eabi. Only the Cortex-M
# build (agent/ports/cortex-m) uses it; the host presets never need the ARM toolchain.
#
#   cmake -S agent/ports/cortex-m -B build/cortex-m --toolchain "$PWD/cmake/arm-none-eabi.cmake"
#
# (An absolute path: CMake looks for a relative one in the build directory.)
#
# VIGIL_ARM_CPU picks the core (cortex-m3 by default, which QEMU's mps2-an385 emulates). The CPU
# flags go into the *_FLAGS_INIT variables and the link flags too, so the compiler, the assembler
# and the multilib choice of libgcc agree. A -DCMAKE_CXX_FLAGS=... on the command line replaces
# the _INIT value and with it -mthumb: add flags through the CXXFLAGS environment variable.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
find_program(CMAKE_OBJCOPY arm-none-eabi-objcopy)
find_program(CMAKE_SIZE arm-none-eabi-size)

# Compiler checks cannot link a program before the startup code and linker script exist.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(VIGIL_ARM_CPU "cortex-m3" CACHE STRING "The -mcpu of the Cortex-M build")
set(_vigil_cpu_flags "-mcpu=${VIGIL_ARM_CPU} -mthumb")
set(CMAKE_C_FLAGS_INIT "${_vigil_cpu_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_vigil_cpu_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_vigil_cpu_flags}")
# -nostdlib: no crt0, no libc and no libstdc++ (Debian ships only its headers for this target);
# the port supplies startup code and the few C functions the compiler calls, libgcc the helpers
# such as 64-bit division.
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_vigil_cpu_flags} -nostdlib -Wl,--gc-sections")
set(CMAKE_C_STANDARD_LIBRARIES "-lgcc" CACHE STRING "" FORCE)
set(CMAKE_CXX_STANDARD_LIBRARIES "-lgcc" CACHE STRING "" FORCE)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
