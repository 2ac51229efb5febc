/* NetX Duo settings of the footprint build: the defaults plus the hook Vigil needs. */
#ifndef VIGIL_FOOTPRINT_NX_USER_H
#define VIGIL_FOOTPRINT_NX_USER_H
#define NX_ENABLE_IP_PACKET_FILTER
#endif
