/* Stand-ins for the ThreadX and NetX Duo functions the port calls, so the footprint program
 * links without the RTOS; they are not counted. */
#include <stddef.h>

#include "nx_api.h"
#include "tx_api.h"

NX_IP footprint_ip;
NX_PACKET footprint_packet;
NX_IP *_nx_ip_created_ptr = &footprint_ip;
ULONG _nx_ip_created_count = 1;

void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *dd = d;
    const unsigned char *ss = s;
    while (n--) *dd++ = *ss++;
    return d;
}
void *memset(void *d, int c, size_t n) {
    unsigned char *dd = d;
    while (n--) *dd++ = (unsigned char)c;
    return d;
}
void *memmove(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; --n, ++x, ++y) if (*x != *y) return *x - *y;
    return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) ++n; return n; }
int rand(void) { return 4; }

UINT _txe_mutex_create(TX_MUTEX *m, CHAR *n, UINT i, UINT s) { (void)m; (void)n; (void)i; (void)s; return TX_SUCCESS; }
UINT _txe_mutex_delete(TX_MUTEX *m) { (void)m; return TX_SUCCESS; }
UINT _txe_mutex_get(TX_MUTEX *m, ULONG w) { (void)m; (void)w; return TX_SUCCESS; }
UINT _txe_mutex_put(TX_MUTEX *m) { (void)m; return TX_SUCCESS; }
UINT _txe_semaphore_create(TX_SEMAPHORE *s, CHAR *n, ULONG i, UINT z) { (void)s; (void)n; (void)i; (void)z; return TX_SUCCESS; }
UINT _txe_semaphore_delete(TX_SEMAPHORE *s) { (void)s; return TX_SUCCESS; }
UINT _txe_semaphore_get(TX_SEMAPHORE *s, ULONG w) { (void)s; (void)w; return TX_SUCCESS; }
UINT _txe_semaphore_ceiling_put(TX_SEMAPHORE *s, ULONG c) { (void)s; (void)c; return TX_SUCCESS; }
UINT _txe_thread_create(TX_THREAD *t, CHAR *n, VOID (*e)(ULONG), ULONG i, VOID *s, ULONG z,
                        UINT p, UINT q, ULONG l, UINT a, UINT c) {
    (void)t; (void)n; (void)i; (void)s; (void)z; (void)p; (void)q; (void)l; (void)a; (void)c;
    e(0); /* keeps the thread body in the image */
    return TX_SUCCESS;
}
UINT _tx_thread_sleep(ULONG t) { (void)t; return TX_SUCCESS; }
ULONG _tx_time_get(VOID) { return 0; }
volatile ULONG _tx_timer_system_clock;
UINT _tx_thread_interrupt_control(UINT p) { return p; }
UINT _nxe_packet_data_extract_offset(NX_PACKET *p, ULONG o, VOID *b, ULONG l, ULONG *c) {
    (void)p; (void)o; (void)b; (void)l; *c = 0; return NX_SUCCESS;
}
UINT _nxe_packet_release(NX_PACKET **p) { (void)p; return NX_SUCCESS; }
