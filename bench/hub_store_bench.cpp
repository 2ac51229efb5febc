// The store's ingest throughput: batches of reports with 20 flows each, written as the hub's
// ingest writes them (one transaction per batch, durable on return), into a fresh file.
//
//   vigil_bench_hub_store [--batches N] [--batch-size N] [--devices N] [--page-size B] [--normal]
//                         [--dir PATH] [--keep]
//
// Prints "BENCH hub_store_reports_per_second <n> reports/s",
// "BENCH hub_store_batch_commit_ms_p99 <x> ms" and "BENCH hub_store_open_with_quick_check_ms <x>
// ms" (reopening the file it wrote, as the next start of a hub would). The hub's budget is 20,000
// reports of 20 flows per second end to end, so the store alone must do clearly more.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "vigil/hub/sqlite_store.hpp"

namespace {

using vigil::hub::Flow;
using vigil::hub::Report;

struct Settings {
    int batches = 300;
    int batch_size = 500;
    int devices = 5000;
    bool normal = false;
    bool keep = false;  ///< leave the store file behind (to time its quick check with a cold cache)
    uint32_t page_size = vigil::hub::SqliteOptions{}.page_size_bytes;
    std::string directory = std::filesystem::temp_directory_path();
};

Report make_report(int device, int sequence, int64_t now_ms) {
    Report report;
    report.device_id = "device-" + std::to_string(device);
    report.message_key = "boot-1:" + std::to_string(sequence);
    report.agent_version = "0.1.0";
    report.device_time_ms = now_ms - 200;
    report.received_ms = now_ms;
    report.window_duration_ms = 10000;
    report.has_network = true;
    for (int i = 0; i < 20; ++i) {
        Flow flow;
        flow.local =
            "10.0." + std::to_string(device / 250 % 250) + "." + std::to_string(device % 250);
        flow.remote = "203.0.113." + std::to_string((sequence * 7 + i) % 250);
        flow.protocol = i % 4 == 0 ? vigil::hub::Protocol::Udp : vigil::hub::Protocol::Tcp;
        flow.local_port = static_cast<uint16_t>(40000 + i);
        flow.remote_port = i % 4 == 0 ? 53 : 443;
        flow.bytes_in = 1200 + static_cast<uint64_t>(i * 37);
        flow.bytes_out = 400 + static_cast<uint64_t>(i * 11);
        flow.packets_in = 12;
        flow.packets_out = 9;
        flow.remote_opened = false;
        flow.handshake = i % 4 == 0 ? "" : "completed";
        report.flows.push_back(flow);
    }
    report.payload_bytes = 400;
    return report;
}

bool parse(int argc, char** argv, Settings& settings) {
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        const bool has_value = i + 1 < argc;
        if (option == "--batches" && has_value) {
            settings.batches = std::atoi(argv[++i]);
        } else if (option == "--batch-size" && has_value) {
            settings.batch_size = std::atoi(argv[++i]);
        } else if (option == "--devices" && has_value) {
            settings.devices = std::atoi(argv[++i]);
        } else if (option == "--dir" && has_value) {
            settings.directory = argv[++i];
        } else if (option == "--page-size" && has_value) {
            settings.page_size = static_cast<uint32_t>(std::atoi(argv[++i]));
        } else if (option == "--normal") {
            settings.normal = true;
        } else if (option == "--keep") {
            settings.keep = true;
        } else {
            std::fprintf(
                stderr,
                "usage: %s [--batches N] [--batch-size N] [--devices N] [--page-size B] [--normal] "
                "[--dir PATH] [--keep]\n",
                argv[0]);
            return false;
        }
    }
    return settings.batches > 0 && settings.batch_size > 0 && settings.devices > 0;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    if (!parse(argc, argv, settings)) {
        return 2;
    }
    std::string pattern = settings.directory + "/vigil-store-bench-XXXXXX";
    if (!mkdtemp(pattern.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    vigil::hub::SqliteOptions options;
    options.path = pattern + "/hub.db";
    options.page_size_bytes = settings.page_size;
    options.durability =
        settings.normal ? vigil::hub::Durability::Normal : vigil::hub::Durability::Full;
    std::string error;
    auto store = vigil::hub::open_sqlite_store(options, error);
    if (!store) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    // Reports are built before timing: the figure is the store's alone.
    std::vector<std::vector<Report>> batches(static_cast<size_t>(settings.batches));
    int sequence = 0;
    for (auto& batch : batches) {
        for (int i = 0; i < settings.batch_size; ++i, ++sequence) {
            batch.push_back(make_report(sequence % settings.devices, sequence / settings.devices,
                                        1'700'000'000'000 + sequence));
        }
    }
    std::vector<double> commit_ms;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& batch : batches) {
        const auto begin = std::chrono::steady_clock::now();
        const vigil::hub::WriteResult result = store->write_batch(batch);
        const auto end = std::chrono::steady_clock::now();
        if (!result.ok) {
            std::fprintf(stderr, "write_batch: %s\n", result.error.c_str());
            return 1;
        }
        commit_ms.push_back(std::chrono::duration<double, std::milli>(end - begin).count());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::sort(commit_ms.begin(), commit_ms.end());
    const double p50 = commit_ms[commit_ms.size() / 2];
    const double p99 = commit_ms[std::min(commit_ms.size() - 1, commit_ms.size() * 99 / 100)];
    const double reports = static_cast<double>(settings.batches) * settings.batch_size;
    const auto stats = store->stats();
    std::printf("%d batches of %d reports (20 flows each), %d devices, synchronous=%s, %s\n",
                settings.batches, settings.batch_size, settings.devices,
                settings.normal ? "NORMAL" : "FULL", options.path.c_str());
    std::printf("%.0f reports in %.2f s; batch p50 %.2f ms, p99 %.2f ms; file %.1f MiB\n", reports,
                seconds, p50, p99, static_cast<double>(stats.value.file_bytes) / (1024.0 * 1024.0));
    std::printf("BENCH hub_store_reports_per_second %.0f reports/s\n", reports / seconds);
    std::printf("BENCH hub_store_batch_commit_ms_p99 %.2f ms\n", p99);
    store.reset();
    // What the next start of a hub on this store pays for its quick check, without a limit.
    options.quick_check_ms = UINT32_MAX;
    const auto reopen = std::chrono::steady_clock::now();
    store = vigil::hub::open_sqlite_store(options, error);
    const double check_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - reopen)
            .count();
    if (!store) {
        std::fprintf(stderr, "reopen: %s\n", error.c_str());
        return 1;
    }
    const double mib = static_cast<double>(stats.value.file_bytes) / (1024.0 * 1024.0);
    std::printf("reopened with its quick check in %.0f ms (%.0f MiB/s)\n", check_ms,
                mib / (check_ms / 1000.0));
    std::printf("BENCH hub_store_open_with_quick_check_ms %.0f ms\n", check_ms);
    store.reset();
    if (!settings.keep) {
        std::filesystem::remove_all(pattern);
    }
    return 0;
}
