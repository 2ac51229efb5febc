// vigil rules validate, run as a program: what it prints and its exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct CliRun {
    int exit_code = -1;
    std::string out, err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class RulesValidate : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        directory_ = fs::path(::testing::TempDir()) /
                     ("rules_cli_" + std::string(test->name()) + "_" + std::to_string(::getpid()));
        fs::remove_all(directory_);
        fs::create_directories(directory_);
    }
    void TearDown() override { fs::remove_all(directory_); }

    fs::path write(const std::string& name, const std::string& text) {
        const fs::path path = directory_ / name;
        std::ofstream(path) << text;
        return path;
    }

    /// Runs vigil with `args`; no hub is listening anywhere it could reach.
    CliRun vigil(const std::string& args) {
        const fs::path err = directory_ / "stderr";
        const std::string command = "env -u VIGIL_TOKEN VIGIL_HUB=http://127.0.0.1:9 timeout 60 " +
                                    std::string(VIGIL_CLI) + " " + args + " 2>" + err.string();
        CliRun run;
        FILE* pipe = ::popen(command.c_str(), "r");
        if (pipe == nullptr) {
            ADD_FAILURE() << "cannot run " << command;
            return run;
        }
        char buffer[4096];
        size_t got = 0;
        while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
            run.out.append(buffer, got);
        }
        const int status = ::pclose(pipe);
        run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        run.err = slurp(err);
        return run;
    }

    fs::path directory_;
};

TEST_F(RulesValidate, ValidFileSaysWhatItHolds) {
    const CliRun run =
        vigil(std::string("rules validate ") + VIGIL_DETECT_DATA_DIR + "/policy.example.toml");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, std::string(VIGIL_DETECT_DATA_DIR) +
                           "/policy.example.toml: valid: 2 groups, 1 device, 4 rules, 3 outputs, "
                           "1 suppression\n");
    EXPECT_EQ(run.err, "");
}

TEST_F(RulesValidate, EveryErrorWithFileLineAndColumn) {
    const fs::path path = write("bad.toml",
                                "[defaults.flood]\n"
                                "packets_per_second = 0\n"
                                "[groups.cameras.allow]\n"
                                "outbound = [\"10.0.0.1/8\"]\n"
                                "[defaults.silence]\n"
                                "intervalz = 3\n");
    const CliRun run = vigil("rules validate " + path.string());
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(run.out, "");
    std::istringstream lines(run.err);
    std::string line;
    std::vector<std::string> printed;
    while (std::getline(lines, line)) {
        printed.push_back(line);
    }
    ASSERT_EQ(printed.size(), 4u) << run.err;
    EXPECT_EQ(printed[0].rfind(path.string() + ":2:22: defaults.flood.packets_per_second: 0 is "
                                               "out of range",
                               0),
              0u)
        << printed[0];
    EXPECT_EQ(printed[1].rfind(path.string() + ":4:13: groups.cameras.allow.outbound: ", 0), 0u)
        << printed[1];
    EXPECT_EQ(printed[2].rfind(path.string() + ":6:1: unknown key \"intervalz\" in "
                                               "[defaults.silence]",
                               0),
              0u)
        << printed[2];
    EXPECT_EQ(printed[3], path.string() + ": refused, 3 errors");
}

TEST_F(RulesValidate, SyntaxError) {
    const fs::path path = write("broken.toml", "[defaults\nflood = 1\n");
    const CliRun run = vigil("rules validate " + path.string());
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(run.err.rfind(path.string() + ":1:", 0), 0u) << run.err;
    EXPECT_NE(run.err.find("TOML syntax"), std::string::npos) << run.err;
}

TEST_F(RulesValidate, JsonAnswers) {
    const fs::path good = write("good.toml",
                                "[[groups.g.rules]]\nname = \"r\"\n"
                                "metric = \"bytes_in\"\nabove = 1\n");
    CliRun run = vigil("rules validate --json " + good.string());
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_NE(run.out.find("\"valid\": true"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("\"rules\": 1"), std::string::npos) << run.out;

    const fs::path bad = write("bad.toml", "x = 1\n");
    run = vigil("rules validate --json " + bad.string());
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.out.find("\"valid\": false"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("\"line\": 1"), std::string::npos) << run.out;
}

TEST_F(RulesValidate, MissingFileAndMissingArgument) {
    CliRun run = vigil("rules validate " + (directory_ / "absent.toml").string());
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("cannot read"), std::string::npos) << run.err;

    run = vigil("rules validate /dev/zero");
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("not a regular file"), std::string::npos) << run.err;

    run = vigil("rules validate");
    EXPECT_EQ(run.exit_code, 2) << run.err;
    run = vigil("rules");
    EXPECT_EQ(run.exit_code, 2) << run.err;
}

}  // namespace
