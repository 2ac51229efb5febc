#include "hub_client.hpp"

#include <mutex>

#include "vigil/protocol/device_id.h"

namespace vigil::hub {

mosquitto* new_hub_client(const std::string& name, const HubClientAccount& account, void* owner,
                          std::string& error) {
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    const std::string client_id = std::string(wire::kHubClientIdPrefix) + name;
    mosquitto* client = mosquitto_new(client_id.c_str(), true, owner);
    if (!client) {
        error = "cannot create the MQTT client " + client_id;
        return nullptr;
    }
    mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_username_pw_set(client, account.username.c_str(), account.password.c_str());
    mosquitto_reconnect_delay_set(client, 1, 10, true);
    return client;
}

bool connect_hub_client(mosquitto* client, const HubClientAccount& account, const std::string& what,
                        std::string& error) {
    // MOSQ_ERR_ERRNO: the broker is not there yet; the client's thread keeps trying.
    int rc = mosquitto_connect_async(client, account.host.c_str(), account.port, 30);
    if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_ERRNO) {
        rc = mosquitto_loop_start(client);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        error = what + ": " + mosquitto_strerror(rc);
        return false;
    }
    return true;
}

void end_hub_client(mosquitto*& client) {
    if (!client) {
        return;
    }
    mosquitto_disconnect(client);
    mosquitto_loop_stop(client, true);
    mosquitto_destroy(client);
    client = nullptr;
}

}  // namespace vigil::hub
