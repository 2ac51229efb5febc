/* NetX Duo settings for running the NetX Duo port on the ThreadX Linux port (64-bit hosts).
 * Everything that changes the layout of NetX structures is here, so the libraries, the port and
 * the application all see the same NX_IP. */
#ifndef VIGIL_NX_USER_H
#define VIGIL_NX_USER_H

/* The hook the agent uses: nx_ip_packet_filter_extended, in both directions. */
#define NX_ENABLE_IP_PACKET_FILTER

/* NetX hands its NX_IP pointer to the IP helper thread and the IP timers as a ULONG argument,
 * which is 32 bits on the 64-bit Linux port. These keep the pointer in the thread's and the
 * timer's extension fields instead (the ThreadX Linux port provides both). */
#define NX_THREAD_EXTENSION_PTR_SET(a, b)                                  \
    {                                                                      \
        ((TX_THREAD *)(a))->tx_thread_extension_ptr = (VOID *)(b);          \
    }
/* The IP thread starts before nx_ip_create() stores the pointer, so it waits for it. */
#define NX_THREAD_EXTENSION_PTR_GET(a, b, c)                               \
    {                                                                      \
        NX_PARAMETER_NOT_USED(c);                                          \
        while (tx_thread_identify()->tx_thread_extension_ptr == NX_NULL)   \
        {                                                                  \
            tx_thread_sleep(1);                                            \
        }                                                                  \
        (a) = (b *)(tx_thread_identify()->tx_thread_extension_ptr);        \
    }
#define NX_TIMER_EXTENSION_PTR_SET(a, b)                                   \
    {                                                                      \
        ((TX_TIMER *)(a))->tx_timer_internal.tx_timer_internal_extension_ptr = (VOID *)(b); \
    }
#define NX_TIMER_EXTENSION_PTR_GET(a, b, c)                                \
    {                                                                      \
        NX_PARAMETER_NOT_USED(c);                                          \
        if (_tx_timer_expired_timer_ptr->tx_timer_internal_extension_ptr == NX_NULL) \
        {                                                                  \
            return;                                                        \
        }                                                                  \
        (a) = (b *)(_tx_timer_expired_timer_ptr->tx_timer_internal_extension_ptr); \
    }

#endif /* VIGIL_NX_USER_H */
