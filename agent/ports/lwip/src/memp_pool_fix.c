/* Workaround for a heap overflow in Debian's liblwip 2.1.3 (2.1.3+dfsg1-2) on every received
 * frame longer than 592 bytes. This file must be linked into the executable itself (CMake:
 * vigil_port_lwip adds it to every program that links the port); the interposition below works
 * only from there, because the library calls memp_malloc through its PLT and the dynamic linker
 * binds that to the executable's definition first.
 *
 * The cause is a one-definition-rule split inside the library's own build:
 *  - lwipopts.h defines TCP_MSS 1460, and PBUF_POOL_BUFSIZE derives from TCP_MSS;
 *  - memp.c includes lwip/priv/sockets_priv.h -> lwip/sockets.h -> posix/inet.h -> glibc's
 *    <netinet/tcp.h>, which has "#define TCP_MSS 512". Being a system header it redefines the
 *    macro silently, so memp.c sizes each PBUF_POOL element for a 592-byte payload (a 616-byte
 *    block);
 *  - pbuf.c never includes that header: it believes a pool pbuf holds PBUF_POOL_BUFSIZE = 1536
 *    bytes, and tapif receives every frame into one with pbuf_alloc(PBUF_RAW, len, PBUF_POOL).
 * So each frame over 592 bytes is written past the end of its heap block (valgrind: invalid
 * write in pbuf_take from tapif's low_level_input). Here pool pbufs get a block of the size
 * pbuf.c assumes. Every other pool is left to the library.
 *
 * Freeing stays correct: with MEMP_MEM_MALLOC=1 memp_free() is mem_free(), and with
 * MEM_LIBC_MALLOC=1 that is free(), whatever the block size. Application code must not size
 * anything from TCP_MSS either: any file that includes lwip/sockets.h sees 512. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "lwip/mem.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"

/* What pbuf.c writes into a pool pbuf: the struct, then PBUF_POOL_BUFSIZE (1536 in the library;
 * this file cannot compute it, for the same reason as above), with room for alignment. */
#define VIGIL_POOL_PBUF_BYTES 2048

typedef void* (*memp_malloc_fn)(memp_t type);

void* memp_malloc(memp_t type) {
    static memp_malloc_fn real = NULL;
    if (type == MEMP_PBUF_POOL) {
        return mem_malloc(VIGIL_POOL_PBUF_BYTES);
    }
    memp_malloc_fn next = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (next == NULL) {
        /* Two threads may both look it up; they store the same pointer. */
        next = (memp_malloc_fn)dlsym(RTLD_NEXT, "memp_malloc");
        if (next == NULL) {
            return NULL;
        }
        __atomic_store_n(&real, next, __ATOMIC_RELEASE);
    }
    return next(type);
}
