/* A vigil_transport over NetX Duo's own MQTT client (addons/mqtt), for applications that have
 * one connected: Vigil publishes on it, the application keeps owning the connection.
 *
 *   static VIGIL_NETXDUO_MQTT vigil_mqtt;
 *   settings.transport = vigil_netxduo_mqtt_transport(&vigil_mqtt, &mqtt_client);
 *
 * The topic follows the IoT-hub convention: the agent's topic with its URL-encoded property bag
 * appended ("devices/{id}/messages/events/mti=vigil.1&..."), as Azure IoT Hub and vigil-hub
 * expect. Messages go out at QoS 1 without waiting: a full packet pool or TCP window is "busy"
 * and the agent retries after its retry delay. */
#ifndef VIGIL_PORTS_NETXDUO_MQTT_H
#define VIGIL_PORTS_NETXDUO_MQTT_H

#include "nxd_mqtt_client.h"
#include "vigil/agent/vigil_agent.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest topic with its property bag; longer ones are refused (an error, not "busy"). */
#ifndef VIGIL_NETXDUO_MQTT_TOPIC_BYTES
#define VIGIL_NETXDUO_MQTT_TOPIC_BYTES 256
#endif

typedef struct VIGIL_NETXDUO_MQTT {
    NXD_MQTT_CLIENT* client;
    CHAR topic[VIGIL_NETXDUO_MQTT_TOPIC_BYTES];
    ULONG published;
    ULONG busy;
    ULONG failed;
} VIGIL_NETXDUO_MQTT;

/* Binds `mqtt` (which must outlive the agent) to `client` and returns the transport to put in
 * VIGIL_NETXDUO_SETTINGS. */
vigil_transport vigil_netxduo_mqtt_transport(VIGIL_NETXDUO_MQTT* mqtt, NXD_MQTT_CLIENT* client);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_PORTS_NETXDUO_MQTT_H */
