// main() of the NetX Duo tests: gtest runs inside a ThreadX thread, since the port's calls must
// come from ThreadX threads, so main() hands the process to tx_kernel_enter() and the cases run
// as one test in their order. tx_application_define() builds the two instances first.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "two_instances.hpp"

namespace {

// Below the IP threads and Vigil's own, so the stack and the agent run whenever the tests wait.
constexpr UINT kTestThreadPriority = 16;

TX_THREAD g_test_thread;
alignas(16) UCHAR g_test_stack[65536];

void run_tests(ULONG) {
    const int result = RUN_ALL_TESTS();
    std::fflush(stdout);
    std::fflush(stderr);
    // Other ThreadX threads are still running: leave without static destructors.
    _exit(result);
}

}  // namespace

extern "C" void tx_application_define(void*) {
    vigil::test::netx::create_network();
    tx_thread_create(&g_test_thread, const_cast<CHAR*>("tests"), run_tests, 0, g_test_stack,
                     sizeof(g_test_stack), kTestThreadPriority, kTestThreadPriority,
                     TX_NO_TIME_SLICE, TX_AUTO_START);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    tx_kernel_enter();
    return 1;  // tx_kernel_enter() does not return
}
