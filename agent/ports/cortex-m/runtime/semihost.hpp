// ARM semihosting, the debug channel through which QEMU (-semihosting-config enable=on) prints
// for a bare-metal program and takes its exit status. Only the QEMU programs use it; a board
// without a debugger attached would stop at the breakpoint.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::semihost {

/// Writes a NUL-terminated string to the host's console.
void write(const char* text);
/// Writes an unsigned decimal number.
void write_u64(uint64_t value);
/// Ends the QEMU process with `status` as its exit code (SYS_EXIT_EXTENDED).
[[noreturn]] void exit(int status);

}  // namespace vigil::semihost
