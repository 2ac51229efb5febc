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
 */
#define _POSIX_C_SOURCE 200809L

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

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

struct device_counts {
    char* username;
    unsigned long long counts[REASON_COUNT];
};

struct guard {
    mosquitto_plugin_id_t* id;
    char* hub_accounts[MAX_LIST];
    int hub_account_count;
    char* client_prefix;
    char* device_topics[MAX_LIST];
    int device_topic_count;
    char* report_topic;
    char epoch[48];
    struct device_counts* devices; /* sorted by username */
    size_t device_count, device_capacity;
    bool changed;
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
    for (size_t i = 0; ok && i < g_guard.device_count; ++i) {
        const struct device_counts* d = &g_guard.devices[i];
        ok = (i == 0 || append(&t, ",", 1)) && append_name(&t, d->username) && append(&t, ":{", 2);
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
        return strcmp(e->topic, g_guard.report_topic) == 0 ? MOSQ_ERR_ACL_DENIED
                                                           : MOSQ_ERR_PLUGIN_DEFER;
    }
    if (e->access != MOSQ_ACL_WRITE) {
        return MOSQ_ERR_PLUGIN_DEFER;
    }
    if (username == NULL || strpbrk(username, "/+#") != NULL) {
        return MOSQ_ERR_ACL_DENIED;
    }
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
    if (g_guard.changed && now.tv_sec != g_guard.last_report_s) {
        g_guard.last_report_s = now.tv_sec;
        publish_counts();
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
        }
    }
    if (g_guard.hub_account_count == 0 || g_guard.client_prefix == NULL ||
        g_guard.device_topic_count == 0 || g_guard.report_topic == NULL) {
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             "vigil-broker-guard: needs plugin_opt_hub_accounts, "
                             "plugin_opt_hub_client_prefix, plugin_opt_device_topics and "
                             "plugin_opt_report_topic");
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
    memset(&g_guard, 0, sizeof g_guard);
    return MOSQ_ERR_SUCCESS;
}
