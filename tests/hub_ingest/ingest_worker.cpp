// The ingest pipeline in a process of its own, so a test can kill it with SIGKILL mid-stream.
//   hub_ingest_worker <port> <user> <password> <client id> <keys file> <ready file>
// Its store appends "<device> <key>" per committed report to the keys file and syncs it before
// write_batch returns, as a durable store would; it does not dedupe, so the file shows every
// repeat. The ready file appears once the subscriptions are confirmed. SIGTERM stops it cleanly.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "vigil/hub/ingest.hpp"

namespace {

std::atomic<bool> g_stop{false};

vigil::hub::DecodeOutcome decode(const vigil::hub::Incoming& in) {
    vigil::hub::DecodeOutcome out;
    out.ok = true;
    out.report.message_key.assign(in.payload.begin(), in.payload.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s port user password client-id keys-file ready-file\n",
                     argv[0]);
        return 2;
    }
    signal(SIGTERM, [](int) { g_stop = true; });
    const int keys = open(argv[5], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (keys < 0) {
        return 1;
    }
    vigil::hub::IngestSettings s;
    s.port = static_cast<uint16_t>(std::atoi(argv[1]));
    s.username = argv[2];
    s.password = argv[3];
    s.client_id = argv[4];
    vigil::hub::IngestPipeline pipeline(
        s, decode, [keys](const std::vector<vigil::hub::Report>& reports) {
            std::string lines;
            for (const vigil::hub::Report& r : reports) {
                lines += r.device_id + " " + r.message_key + "\n";
            }
            vigil::hub::WriteResult result;
            result.ok =
                write(keys, lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()) &&
                fdatasync(keys) == 0;
            result.stored = result.ok ? reports.size() : 0;
            return result;
        });
    pipeline.start();
    bool ready = false;
    while (!g_stop) {
        if (!ready && pipeline.subscribed()) {
            ready = true;
            close(open(argv[6], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pipeline.stop();
    close(keys);
    return 0;
}
