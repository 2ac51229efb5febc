// Includes the two lwIP headers that C++ cannot use as they are: Debian's lwipopts.h declares
// sys_lock_tcpip_core() and friends (behind LOCK_TCPIP_CORE) and netif/tapif.h declares
// tapif_init() without extern "C". Include this before any other lwIP header.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif
#include "lwipopts.h"  // only #defines and prototypes, no #include: safe inside extern "C"
#ifdef __cplusplus
}
#endif

#include "lwip/netif.h"

#ifdef __cplusplus
extern "C" {
#endif
#include "netif/tapif.h"  // its only #include, lwip/netif.h, is already done above
#ifdef __cplusplus
}
#endif
