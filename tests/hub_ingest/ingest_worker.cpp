// The ingest pipeline in a process of its own, so a test can kill it with SIGKILL mid-stream.
//   hub_ingest_worker <port> <user> <password> <client id> <keys dir> <ready file>
// Its store commits each batch as one file of "<device> <key>" lines in the keys directory,
// written, synced and renamed into place before write_batch returns, so a batch is there whole
// or not at all, as in a transactional store; it does not dedupe, so the files show every
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
#include <vector>

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
    const std::string dir = argv[5];
    const std::string prefix = dir + "/" + std::to_string(getpid()) + "-";
    int batch = 0;
    vigil::hub::IngestSettings s;
    s.port = static_cast<uint16_t>(std::atoi(argv[1]));
    s.username = argv[2];
    s.password = argv[3];
    s.client_id = argv[4];
    // One file per batch, renamed into place once synced: a batch is there whole or not at all.
    auto commit = [&](const std::vector<vigil::hub::Report>& reports) {
        std::string lines;
        for (const vigil::hub::Report& r : reports) {
            lines += r.device_id + " " + r.message_key + "\n";
        }
        const std::string name = prefix + std::to_string(++batch);
        const std::string tmp = name + ".tmp";
        const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        vigil::hub::WriteResult result;
        result.ok = fd >= 0 &&
                    write(fd, lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()) &&
                    fsync(fd) == 0 && rename(tmp.c_str(), (name + ".keys").c_str()) == 0;
        if (fd >= 0) {
            close(fd);
        }
        result.stored = result.ok ? reports.size() : 0;
        return result;
    };
    vigil::hub::IngestPipeline pipeline(s, decode, commit);
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
    return 0;
}
