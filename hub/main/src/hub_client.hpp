// The libmosquitto clients vigil-hub runs beside ingest (the config publisher, the broker watch):
// one way to make, connect and end them, under a client id in the hub's namespace.
#pragma once

#include <mosquitto.h>

#include <cstdint>
#include <string>

namespace vigil::hub {

struct HubClientAccount {
    std::string host;
    uint16_t port = 0;
    std::string username, password;
};

/// A clean-session MQTT 3.1.1 client `vigil-hub/<name>` of `account`, its callbacks given `owner`;
/// nullptr, with `error`, when libmosquitto cannot make one. Set the callbacks, then connect.
mosquitto* new_hub_client(const std::string& name, const HubClientAccount& account, void* owner,
                          std::string& error);

/// Starts connecting (again every 1-10 s while the broker is away) on the client's own thread;
/// false, with `error` naming `what`, when it cannot even start.
bool connect_hub_client(mosquitto* client, const HubClientAccount& account, const std::string& what,
                        std::string& error);

/// Disconnects, joins the client's thread and frees it; nullptr is left.
void end_hub_client(mosquitto*& client);

}  // namespace vigil::hub
