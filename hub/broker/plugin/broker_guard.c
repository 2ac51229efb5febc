/* vigil-broker-guard: a mosquitto 2.0 plugin the hub loads before the dynamic-security plugin.
 *
 * Why a plugin of our own: dynamic security decides allow or deny on a topic pattern, and that is
 * all it can do. It cannot take the retain flag off a message (a device that may publish on its
 * telemetry topic may then also leave retained messages there, which the broker keeps in memory
 * and rewrites into its persistence file at every autosave), it cannot say why it refused a
 * publish, and a refusal never reaches the hub. The plugin API can: MOSQ_EVT_MESSAGE may change a
 * message's retain flag, and an ACL callback that answers MOSQ_ERR_PLUGIN_DEFER passes the
 * decision on to the next plugin in load order (mosquitto 2.0.11 calls each event's callbacks in
 * the order the plugins were loaded, stopping at the first answer that is not a deferral).
 *
 * What it does, for every client whose username is not one of the hub's accounts (a device):
 *   - a publish on a topic other than the device's own topics (plugin_opt_device_topics: patterns
 *     where %u is the username and + one topic level) is refused and counted by reason; what is
 *     allowed here is still decided by dynamic security;
 *   - a retained publish loses its retain flag (counted), so nothing a device sends stays at the
 *     broker;
 *   - the hub's report topic may not be subscribed to or read.
 * And for every client: a client id that starts with the hub's prefix
 * (plugin_opt_hub_client_prefix) is refused unless the username is a hub account, and a hub account
 * must use such a client id, so no device can take over a session of the hub's, whatever its own
 * account allows.
 *
 * Counts are cumulative since the broker started (an epoch names the start) and are published,
 * retained, as JSON on plugin_opt_report_topic at most once per second when they changed:
 *   {"epoch":"<start>","devices":{"<username>":{"<reason>":<count>,...},...}}
 *
 * The hub cannot see how a device reaches the broker, so the guard also says that: a device's
 * connection is noticed at its first publish (mosquitto 2.0.11 has no connect event, and a publish
 * means the connection was accepted), with the address it comes from and whether it came over TLS
 * (the TLS listener requires a client certificate, so a connection with one is a TLS connection).
 * Each device's connections are numbered, and the latest few are published, retained, on
 * plugin_opt_connections_topic at most once per second when one was added:
 *   {"epoch":"<start>","devices":{"<username>":{"connections":<n>,
 *     "recent":[[<number>,"<address>",<tls 0|1>,<unix seconds>],...]},...}}
 * so a hub that reads the topic late still sees the order in which addresses took the identity.
 */
#define _POSIX_C_SOURCE 200809L

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/x509.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The fixed set of reasons, in the order of the counters below. */
enum guard_reason {
    REASON_OTHER_DEVICE,     /* under another device's prefix */
    REASON_NOT_FORMAT_TOPIC, /* under the device's own prefix, but no format uses it */
    REASON_NOT_DEVICE_TOPIC, /* outside every device prefix (the hub's, $SYS, anything else) */
    REASON_RETAIN_CLEARED,   /* accepted, its retain flag taken off */
    REASON_COUNT
};

static const char* const reason_names[REASON_COUNT] = {"other_device", "not_a_format_topic",
                                                       "not_a_device_topic", "retain_cleared"};

#define MAX_LIST 16
/* Connections kept per device for the report: enough for a hub that reads once a second to see
 * two clients taking an identity from each other every second. */
#define RECENT_CONNECTIONS 4
#define ADDRESS_SIZE 64

struct connection {
    unsigned long long number; /* 0: none */
    char address[ADDRESS_SIZE];
    bool tls;
    long long since_s;
};

struct device_counts {
    char* username;
    unsigned long long counts[REASON_COUNT];
    const struct mosquitto* client; /* the connection last seen publishing; NULL once it is gone */
    unsigned long long connections;
    struct connection recent[RECENT_CONNECTIONS]; /* the latest at connections % size */
};

struct guard {
    mosquitto_plugin_id_t* id;
    char* hub_accounts[MAX_LIST];
    int hub_account_count;
    char* client_prefix;
    char* device_topics[MAX_LIST];
    int device_topic_count;
    char* report_topic;
    char* connections_topic;
    char epoch[48];
    struct device_counts* devices; /* sorted by username */
    size_t device_count, device_capacity;
    bool changed;
    bool connections_changed;
    time_t last_report_s;
};

static struct guard g_guard;

static char* copy_string(const char* s) {
    const size_t n = strlen(s) + 1;
    char* out = malloc(n);
    if (out != NULL) {
        memcpy(out, s, n);
    }
    return out;
}

/* Splits a space-separated option into at most MAX_LIST copies. */
static int split_words(const char* value, char** out) {
    int count = 0;
    const char* p = value;
    while (*p != '\0' && count < MAX_LIST) {
        while (*p == ' ') {
            ++p;
        }
        const char* end = p;
        while (*end != '\0' && *end != ' ') {
            ++end;
        }
        if (end > p) {
            const size_t n = (size_t)(end - p);
            out[count] = malloc(n + 1);
            if (out[count] == NULL) {
                break;
            }
            memcpy(out[count], p, n);
            out[count][n] = '\0';
            ++count;
        }
        p = end;
    }
    return count;
}

static bool is_hub_account(const char* username) {
    if (username == NULL) {
        return false;
    }
    for (int i = 0; i < g_guard.hub_account_count; ++i) {
        if (strcmp(username, g_guard.hub_accounts[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool has_hub_prefix(const char* client_id) {
    const size_t n = strlen(g_guard.client_prefix);
    return client_id != NULL && n > 0 && strncmp(client_id, g_guard.client_prefix, n) == 0;
}

/* True when `topic` matches `pattern`, where %u stands for `username` and a level that is just
 * "+" for any one level. */
static bool topic_matches(const char* pattern, const char* username, const char* topic) {
    const char* p = pattern;
    const char* t = topic;
    const size_t user_length = strlen(username);
    while (*p != '\0') {
        if (p[0] == '%' && p[1] == 'u') {
            if (strncmp(t, username, user_length) != 0) {
                return false;
            }
            t += user_length;
            p += 2;
        } else if (p[0] == '+' && (p[1] == '/' || p[1] == '\0') && (p == pattern || p[-1] == '/')) {
            while (*t != '\0' && *t != '/') {
                ++t;
            }
            ++p;
        } else {
            if (*p != *t) {
                return false;
            }
            ++p;
            ++t;
        }
    }
    return *t == '\0';
}

/* Why a topic that matches none of the device's patterns is refused: the part of a pattern
 * before %u is a device prefix, and the level after it names whose. */
static enum guard_reason refusal_reason(const char* username, const char* topic) {
    for (int i = 0; i < g_guard.device_topic_count; ++i) {
        const char* pattern = g_guard.device_topics[i];
        const char* marker = strstr(pattern, "%u");
        if (marker == NULL) {
            continue;
        }
        const size_t prefix_length = (size_t)(marker - pattern);
        if (strncmp(topic, pattern, prefix_length) != 0) {
            continue;
        }
        const char* id = topic + prefix_length;
        const char* end = strchr(id, '/');
        const size_t id_length = end == NULL ? strlen(id) : (size_t)(end - id);
        if (id_length != strlen(username) || strncmp(id, username, id_length) != 0) {
            return REASON_OTHER_DEVICE;
        }
        return REASON_NOT_FORMAT_TOPIC;
    }
    return REASON_NOT_DEVICE_TOPIC;
}

static struct device_counts* counts_of(const char* username) {
    size_t low = 0, high = g_guard.device_count;
    while (low < high) {
        const size_t mid = (low + high) / 2;
        const int c = strcmp(g_guard.devices[mid].username, username);
        if (c == 0) {
            return &g_guard.devices[mid];
        }
        if (c < 0) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    if (g_guard.device_count == g_guard.device_capacity) {
        const size_t capacity = g_guard.device_capacity == 0 ? 16 : g_guard.device_capacity * 2;
        struct device_counts* grown = realloc(g_guard.devices, capacity * sizeof *grown);
        if (grown == NULL) {
            return NULL;
        }
        g_guard.devices = grown;
        g_guard.device_capacity = capacity;
    }
    char* name = copy_string(username);
    if (name == NULL) {
        return NULL;
    }
    memmove(&g_guard.devices[low + 1], &g_guard.devices[low],
            (g_guard.device_count - low) * sizeof *g_guard.devices);
    memset(&g_guard.devices[low], 0, sizeof *g_guard.devices);
    g_guard.devices[low].username = name;
    ++g_guard.device_count;
    return &g_guard.devices[low];
}

static void count(const char* username, enum guard_reason reason) {
    struct device_counts* c = counts_of(username);
    if (c != NULL) {
        ++c->counts[reason];
        g_guard.changed = true;
    }
}

/* Appends to a growing buffer; false when memory ran out. */
struct text {
    char* data;
    size_t length, capacity;
};

static bool append(struct text* t, const char* s, size_t n) {
    if (t->length + n + 1 > t->capacity) {
        size_t capacity = t->capacity == 0 ? 256 : t->capacity;
        while (t->length + n + 1 > capacity) {
            capacity *= 2;
        }
        char* grown = realloc(t->data, capacity);
        if (grown == NULL) {
            return false;
        }
        t->data = grown;
        t->capacity = capacity;
    }
    memcpy(t->data + t->length, s, n);
    t->length += n;
    t->data[t->length] = '\0';
    return true;
}

static bool append_string(struct text* t, const char* s) {
    return append(t, s, strlen(s));
}

/* A username as a JSON string: anything but the device-id alphabet becomes '_' (devices' usernames
 * are device ids; this only keeps an odd account from breaking the document). */
static bool append_name(struct text* t, const char* name) {
    if (!append(t, "\"", 1)) {
        return false;
    }
    for (const char* p = name; *p != '\0'; ++p) {
        const char c = *p;
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == ':';
        if (!append(t, plain ? p : "_", 1)) {
            return false;
        }
    }
    return append(t, "\"", 1);
}

static void publish_counts(void) {
    struct text t = {NULL, 0, 0};
    bool ok = append_string(&t, "{\"epoch\":\"") && append_string(&t, g_guard.epoch) &&
              append_string(&t, "\",\"devices\":{");
    bool first_device = true;
    for (size_t i = 0; ok && i < g_guard.device_count; ++i) {
        const struct device_counts* d = &g_guard.devices[i];
        bool counted = false;
        for (int r = 0; r < REASON_COUNT; ++r) {
            counted = counted || d->counts[r] != 0;
        }
        if (!counted) {
            continue; /* known only for its connections */
        }
        ok = (first_device || append(&t, ",", 1)) && append_name(&t, d->username) &&
             append(&t, ":{", 2);
        first_device = false;
        bool first = true;
        for (int r = 0; ok && r < REASON_COUNT; ++r) {
            if (d->counts[r] == 0) {
                continue;
            }
            char number[32];
            snprintf(number, sizeof number, "%llu", d->counts[r]);
            ok = (first || append(&t, ",", 1)) && append(&t, "\"", 1) &&
                 append_string(&t, reason_names[r]) && append(&t, "\":", 2) &&
                 append_string(&t, number);
            first = false;
        }
        ok = ok && append(&t, "}", 1);
    }
    ok = ok && append(&t, "}}", 2);
    if (ok) {
        /* Retained, so a hub that (re)subscribes gets the latest counts at once. */
        mosquitto_broker_publish_copy(NULL, g_guard.report_topic, (int)t.length, t.data, 0, true,
                                      NULL);
        g_guard.changed = false;
    }
    free(t.data);
}

static void publish_connections(void) {
    struct text t = {NULL, 0, 0};
    bool ok = append_string(&t, "{\"epoch\":\"") && append_string(&t, g_guard.epoch) &&
              append_string(&t, "\",\"devices\":{");
    bool first_device = true;
    for (size_t i = 0; ok && i < g_guard.device_count; ++i) {
        const struct device_counts* d = &g_guard.devices[i];
        if (d->connections == 0) {
            continue;
        }
        char number[32];
        snprintf(number, sizeof number, "%llu", d->connections);
        ok = (first_device || append(&t, ",", 1)) && append_name(&t, d->username) &&
             append_string(&t, ":{\"connections\":") && append_string(&t, number) &&
             append_string(&t, ",\"recent\":[");
        first_device = false;
        /* Oldest first. */
        const unsigned long long kept =
            d->connections < RECENT_CONNECTIONS ? d->connections : RECENT_CONNECTIONS;
        for (unsigned long long n = d->connections - kept + 1; ok && n <= d->connections; ++n) {
            const struct connection* c = &d->recent[n % RECENT_CONNECTIONS];
            char entry[64];
            snprintf(entry, sizeof entry, "[%llu,", c->number);
            ok = (n == d->connections - kept + 1 || append(&t, ",", 1)) &&
                 append_string(&t, entry) && append_name(&t, c->address);
            snprintf(entry, sizeof entry, ",%d,%lld]", c->tls ? 1 : 0, c->since_s);
            ok = ok && append_string(&t, entry);
        }
        ok = ok && append(&t, "]}", 2);
    }
    ok = ok && append(&t, "}}", 2);
    if (ok) {
        mosquitto_broker_publish_copy(NULL, g_guard.connections_topic, (int)t.length, t.data, 0,
                                      true, NULL);
        g_guard.connections_changed = false;
    }
    free(t.data);
}

/* Records a device's connection the first time it publishes. */
static void notice_connection(const char* username, const struct mosquitto* client) {
    struct device_counts* d = counts_of(username);
    if (d == NULL || d->client == client) {
        return;
    }
    d->client = client;
    ++d->connections;
    struct connection* c = &d->recent[d->connections % RECENT_CONNECTIONS];
    c->number = d->connections;
    const char* address = mosquitto_client_address(client);
    snprintf(c->address, sizeof c->address, "%s", address != NULL ? address : "");
    X509* certificate = mosquitto_client_certificate(client);
    c->tls = certificate != NULL;
    X509_free(certificate);
    c->since_s = (long long)time(NULL);
    g_guard.connections_changed = true;
}

static int on_disconnect(int event, void* event_data, void* userdata) {
    (void)event;
    (void)userdata;
    const struct mosquitto_evt_disconnect* e = event_data;
    const char* username = mosquitto_client_username(e->client);
    if (username == NULL || is_hub_account(username)) {
        return MOSQ_ERR_SUCCESS;
    }
    /* The next connection may reuse the freed client's memory: forget the pointer. Only a
     * device already known is looked up: a client refused at authentication disconnects too. */
    for (size_t low = 0, high = g_guard.device_count; low < high;) {
        const size_t mid = (low + high) / 2;
        const int c = strcmp(g_guard.devices[mid].username, username);
        if (c == 0) {
            if (g_guard.devices[mid].client == e->client) {
                g_guard.devices[mid].client = NULL;
            }
            break;
        }
        if (c < 0) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    return MOSQ_ERR_SUCCESS;
}

static int on_basic_auth(int event, void* event_data, void* userdata) {
    (void)event;
    (void)userdata;
    const struct mosquitto_evt_basic_auth* e = event_data;
    const char* client_id = mosquitto_client_id(e->client);
    const bool hub_account = is_hub_account(e->username);
    if (has_hub_prefix(client_id) != hub_account) {
        mosquitto_log_printf(MOSQ_LOG_WARNING,
                             "vigil-broker-guard: refused client id %s for user %s: the hub's "
                             "client ids and accounts go together",
                             client_id != NULL ? client_id : "(none)",
                             e->username != NULL ? e->username : "(none)");
        return MOSQ_ERR_AUTH;
    }
    return MOSQ_ERR_PLUGIN_DEFER;
}

static int on_acl_check(int event, void* event_data, void* userdata) {
    (void)event;
    (void)userdata;
    const struct mosquitto_evt_acl_check* e = event_data;
    const char* username = mosquitto_client_username(e->client);
    if (is_hub_account(username)) {
        return MOSQ_ERR_PLUGIN_DEFER;
    }
    if (e->access == MOSQ_ACL_SUBSCRIBE || e->access == MOSQ_ACL_READ) {
        return strcmp(e->topic, g_guard.report_topic) == 0 ||
                       strcmp(e->topic, g_guard.connections_topic) == 0
                   ? MOSQ_ERR_ACL_DENIED
                   : MOSQ_ERR_PLUGIN_DEFER;
    }
    if (e->access != MOSQ_ACL_WRITE) {
        return MOSQ_ERR_PLUGIN_DEFER;
    }
    if (username == NULL || strpbrk(username, "/+#") != NULL) {
        return MOSQ_ERR_ACL_DENIED;
    }
    notice_connection(username, e->client);
    for (int i = 0; i < g_guard.device_topic_count; ++i) {
        if (topic_matches(g_guard.device_topics[i], username, e->topic)) {
            return MOSQ_ERR_PLUGIN_DEFER; /* dynamic security decides */
        }
    }
    count(username, refusal_reason(username, e->topic));
    return MOSQ_ERR_ACL_DENIED;
}

static int on_message(int event, void* event_data, void* userdata) {
    (void)event;
    (void)userdata;
    struct mosquitto_evt_message* e = event_data;
    const char* username = mosquitto_client_username(e->client);
    if (e->retain && !is_hub_account(username)) {
        e->retain = false;
        count(username != NULL ? username : "", REASON_RETAIN_CLEARED);
    }
    return MOSQ_ERR_SUCCESS;
}

/* mosquitto 2.0.11 calls this many times a second and leaves the event's times at zero, so the
 * plugin reads its own clock. */
static int on_tick(int event, void* event_data, void* userdata) {
    (void)event;
    (void)event_data;
    (void)userdata;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((g_guard.changed || g_guard.connections_changed) && now.tv_sec != g_guard.last_report_s) {
        g_guard.last_report_s = now.tv_sec;
        if (g_guard.changed) {
            publish_counts();
        }
        if (g_guard.connections_changed) {
            publish_connections();
        }
    }
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
    for (int i = 0; i < supported_version_count; ++i) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                          struct mosquitto_opt* options, int option_count) {
    (void)userdata;
    memset(&g_guard, 0, sizeof g_guard);
    g_guard.id = identifier;
    for (int i = 0; i < option_count; ++i) {
        const char* key = options[i].key;
        const char* value = options[i].value;
        if (strcmp(key, "hub_accounts") == 0) {
            g_guard.hub_account_count = split_words(value, g_guard.hub_accounts);
        } else if (strcmp(key, "hub_client_prefix") == 0) {
            g_guard.client_prefix = copy_string(value);
        } else if (strcmp(key, "device_topics") == 0) {
            g_guard.device_topic_count = split_words(value, g_guard.device_topics);
        } else if (strcmp(key, "report_topic") == 0) {
            g_guard.report_topic = copy_string(value);
        } else if (strcmp(key, "connections_topic") == 0) {
            g_guard.connections_topic = copy_string(value);
        }
    }
    if (g_guard.hub_account_count == 0 || g_guard.client_prefix == NULL ||
        g_guard.device_topic_count == 0 || g_guard.report_topic == NULL ||
        g_guard.connections_topic == NULL) {
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             "vigil-broker-guard: needs plugin_opt_hub_accounts, "
                             "plugin_opt_hub_client_prefix, plugin_opt_device_topics, "
                             "plugin_opt_report_topic and plugin_opt_connections_topic");
        return MOSQ_ERR_INVAL;
    }
    snprintf(g_guard.epoch, sizeof g_guard.epoch, "%lld-%ld", (long long)time(NULL),
             (long)getpid());
    if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL) !=
            MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) !=
            MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, NULL) !=
            MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, NULL) !=
            MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL) !=
            MOSQ_ERR_SUCCESS) {
        return MOSQ_ERR_UNKNOWN;
    }
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt* options, int option_count) {
    (void)userdata;
    (void)options;
    (void)option_count;
    mosquitto_callback_unregister(g_guard.id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    mosquitto_callback_unregister(g_guard.id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(g_guard.id, MOSQ_EVT_MESSAGE, on_message, NULL);
    mosquitto_callback_unregister(g_guard.id, MOSQ_EVT_TICK, on_tick, NULL);
    mosquitto_callback_unregister(g_guard.id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
    for (int i = 0; i < g_guard.hub_account_count; ++i) {
        free(g_guard.hub_accounts[i]);
    }
    for (int i = 0; i < g_guard.device_topic_count; ++i) {
        free(g_guard.device_topics[i]);
    }
    for (size_t i = 0; i < g_guard.device_count; ++i) {
        free(g_guard.devices[i].username);
    }
    free(g_guard.devices);
    free(g_guard.client_prefix);
    free(g_guard.report_topic);
    free(g_guard.connections_topic);
    memset(&g_guard, 0, sizeof g_guard);
    return MOSQ_ERR_SUCCESS;
}
