/* A vigil_transport over NetX Duo's own MQTT client (addons/mqtt), for applications that have
 * one connected: Vigil publishes on it, the application keeps owning the connection.
 *
 *   static VIGIL_NETXDUO_MQTT vigil_mqtt;
 *   settings.transport = vigil_netxduo_mqtt_transport(&vigil_mqtt, &mqtt_client);
 *
 * The topic follows the IoT-hub convention: the agent's topic with its URL-encoded property bag
 * appended ("devices/{id}/messages/events/mti=vigil.1&..."), as Azure IoT Hub and vigil-hub
 * expect. Messages go out at QoS 1 without waiting: a full packet pool or TCP window is "busy"
 * and the agent retries after its retry delay. A message goes out whole or not at all; one that
 * went out in part after all (the pool emptied mid-publish) ends the connection, which the
 * application reconnects.
 *
 * Configs from the hub, optionally:
 *   settings.config_source = vigil_netxduo_mqtt_config_source(&vigil_mqtt);
 *   ... after each successful nxd_mqtt_client_connect():
 *   vigil_netxduo_mqtt_config_subscribe(&vigil_mqtt, device_id);
 * The client's receive queue holds what the broker delivered; the Vigil thread copies the
 * messages out of it (nxd_mqtt_client_message_get) before each tick, so nothing runs in the
 * client's thread. Vigil then owns the client's receive queue: an application that receives on
 * the same client reads its own topics elsewhere. */
#ifndef VIGIL_PORTS_NETXDUO_MQTT_H
#define VIGIL_PORTS_NETXDUO_MQTT_H

#include "nxd_mqtt_client.h"
#include "vigil/agent/vigil_agent.h"
#include "vigil/ports/netxduo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest topic with its property bag; longer ones are refused (an error, not "busy"). */
#ifndef VIGIL_NETXDUO_MQTT_TOPIC_BYTES
#define VIGIL_NETXDUO_MQTT_TOPIC_BYTES 256
#endif

/* Longest config message taken from the hub; a longer one is dropped and counted. */
#ifndef VIGIL_NETXDUO_MQTT_CONFIG_BYTES
#define VIGIL_NETXDUO_MQTT_CONFIG_BYTES 256
#endif

typedef struct VIGIL_NETXDUO_MQTT {
    NXD_MQTT_CLIENT* client;
    CHAR topic[VIGIL_NETXDUO_MQTT_TOPIC_BYTES];
    ULONG published;
    ULONG busy;
    ULONG failed;
    /* publishes that went out in part after all (the connection was then ended) */
    ULONG streams_broken;
    /* devices/{id}/config/vigil, set by vigil_netxduo_mqtt_config_subscribe() */
    CHAR config_topic[VIGIL_NETXDUO_MQTT_TOPIC_BYTES];
    UINT config_topic_length;
    UCHAR config[VIGIL_NETXDUO_MQTT_CONFIG_BYTES];
    ULONG configs_taken;    /* handed to the agent */
    ULONG configs_dropped;  /* longer than VIGIL_NETXDUO_MQTT_CONFIG_BYTES */
    ULONG messages_ignored; /* on another topic */
} VIGIL_NETXDUO_MQTT;

/* Binds `mqtt` (which must outlive the agent) to `client` and returns the transport to put in
 * VIGIL_NETXDUO_SETTINGS. */
vigil_transport vigil_netxduo_mqtt_transport(VIGIL_NETXDUO_MQTT* mqtt, NXD_MQTT_CLIENT* client);

/* The config source to put in VIGIL_NETXDUO_SETTINGS (after vigil_netxduo_mqtt_transport()). */
VIGIL_NETXDUO_CONFIG_SOURCE vigil_netxduo_mqtt_config_source(VIGIL_NETXDUO_MQTT* mqtt);

/* Subscribes at QoS 1 to devices/{device_id}/config/vigil, where the hub keeps the device's
 * config retained. Call from the application's thread after each connect. NXD_MQTT_SUCCESS, or
 * the client's error; NX_SIZE_ERROR when the topic does not fit. */
UINT vigil_netxduo_mqtt_config_subscribe(VIGIL_NETXDUO_MQTT* mqtt, const char* device_id);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_PORTS_NETXDUO_MQTT_H */
