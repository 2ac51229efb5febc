#include "vigil/hub/runtime_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace vigil::hub {
namespace {

class RuntimeFile : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/vigil_runtime_file_XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write_raw(const std::string& text) { std::ofstream(runtime_path(dir_)) << text; }

    std::string dir_;
};

TEST_F(RuntimeFile, WhatTheHubWritesIsReadBack) {
    HubRuntime written;
    written.pid = 4242;
    written.broker_host = "127.0.0.1";
    written.broker_port = 18830;
    written.api_address = "::";
    written.api_port = 8081;
    std::string error;
    ASSERT_TRUE(write_hub_runtime(dir_, written, error)) << error;
    EXPECT_FALSE(std::filesystem::exists(runtime_path(dir_) + ".tmp"));
    const std::optional<HubRuntime> read = read_hub_runtime(dir_);
    ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->pid, 4242);
    EXPECT_EQ(read->broker_host, "127.0.0.1");
    EXPECT_EQ(read->broker_port, 18830);
    EXPECT_EQ(read->api_address, "::");
    EXPECT_EQ(read->api_port, 8081);
}

TEST_F(RuntimeFile, MissingCorruptOrMistypedFilesReadAsNoHub) {
    EXPECT_FALSE(read_hub_runtime(dir_).has_value());
    write_raw("{\"pid\": 12, \"broker_port\": ");
    EXPECT_FALSE(read_hub_runtime(dir_).has_value());
    write_raw("[1, 2]");
    EXPECT_FALSE(read_hub_runtime(dir_).has_value());
    write_raw("{\"pid\": 12, \"broker_port\": \"1883\"}");
    EXPECT_FALSE(read_hub_runtime(dir_).has_value());
    write_raw("{\"pid\": 12, \"broker_port\": 70000}");
    EXPECT_FALSE(read_hub_runtime(dir_).has_value()) << "a port out of range is no port";
}

TEST_F(RuntimeFile, AnUnwritableDirectoryIsAnError) {
    HubRuntime runtime;
    std::string error;
    EXPECT_FALSE(write_hub_runtime(dir_ + "/missing", runtime, error));
    EXPECT_NE(error.find(dir_ + "/missing"), std::string::npos) << error;
}

TEST(RuntimeFileApiUrl, AnyAddressIsReachedThroughLoopbackAndIpv6IsBracketed) {
    HubRuntime runtime;
    runtime.api_port = 8080;
    runtime.api_address = "0.0.0.0";
    EXPECT_EQ(api_url(runtime), "http://127.0.0.1:8080");
    runtime.api_address = "::";
    EXPECT_EQ(api_url(runtime), "http://[::1]:8080");
    runtime.api_address = "fd00::5";
    EXPECT_EQ(api_url(runtime), "http://[fd00::5]:8080");
    runtime.api_address = "192.0.2.7";
    EXPECT_EQ(api_url(runtime), "http://192.0.2.7:8080");
}

}  // namespace
}  // namespace vigil::hub
