/* ThreadX settings of the footprint build: the defaults. */
#ifndef VIGIL_FOOTPRINT_TX_USER_H
#define VIGIL_FOOTPRINT_TX_USER_H
#endif
