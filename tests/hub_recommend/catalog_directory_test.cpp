// The catalog in force: the built-in one (the shipped file, compiled in), with drop-in files
// merged over it; a drop-in with an error is left out whole and reported, the others apply.
#include "vigil/hub/recommend/catalog_directory.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace vigil::hub::recommend {
namespace {

namespace fs = std::filesystem;

class CatalogDirectoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("vigil-catalog-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name, std::ios::binary) << text;
    }

    fs::path dir_;
};

constexpr char kAcme[] =
    "schema = 1\nrevision = \"site-1\"\n"
    "[[product]]\nid = \"acme-ip\"\nname = \"Acme IP\"\n"
    "[[vulnerability]]\nids = [\"CVE-2026-0001\"]\nproduct = \"acme-ip\"\ncomponents = \"DHCP\"\n"
    "summary = \"s\"\nseverity = \"high\"\naffected = [{ fixed = \"3.0\" }]\nsources = [\"x\"]\n";

TEST_F(CatalogDirectoryTest, TheBuiltInCatalogIsTheShippedFile) {
    std::ifstream in(VIGIL_VULNERABILITY_CATALOG, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::vector<detect::PolicyError> errors;
    const auto shipped = VulnerabilityCatalog::parse(text.str(), "file", errors);
    ASSERT_TRUE(shipped.has_value());
    EXPECT_EQ(built_in_catalog()->vulnerabilities().size(), shipped->vulnerabilities().size());
    EXPECT_EQ(built_in_catalog()->revision(), shipped->revision());
}

TEST_F(CatalogDirectoryTest, DropInsApplyAndABrokenOneIsLeftOutWithItsLine) {
    CatalogDirectory directory(dir_);
    ASSERT_TRUE(directory.reload_if_changed());
    const size_t built_in = directory.snapshot()->vulnerabilities().size();
    EXPECT_FALSE(directory.reload_if_changed()) << "nothing changed";

    write("10-acme.toml", kAcme);
    write("20-broken.toml", "schema = 1\n[[vulnerability]]\nids = [\"CVE-1\"]\n");
    write("notes.txt", "not a catalog");
    write(".hidden.toml", "not read");
    ASSERT_TRUE(directory.reload_if_changed());
    EXPECT_EQ(directory.snapshot()->vulnerabilities().size(), built_in + 1);
    const auto findings = directory.snapshot()->match([] {
        SystemInfo system;
        system.stack_name = "Acme IP";
        system.stack_version = "2.0";
        return system;
    }());
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].vulnerabilities.size(), 1u);
    const auto errors = directory.errors();
    ASSERT_FALSE(errors.empty());
    EXPECT_NE(errors[0].file.find("20-broken.toml"), std::string::npos);
    EXPECT_EQ(errors[0].error.line, 3);

    fs::remove(dir_ / "10-acme.toml");
    fs::remove(dir_ / "20-broken.toml");
    ASSERT_TRUE(directory.reload_if_changed());
    EXPECT_EQ(directory.snapshot()->vulnerabilities().size(), built_in);
    EXPECT_TRUE(directory.errors().empty());
}

TEST_F(CatalogDirectoryTest, AMissingDirectoryIsTheBuiltInCatalog) {
    CatalogDirectory directory(dir_ / "missing");
    directory.reload_if_changed();
    EXPECT_EQ(directory.snapshot()->vulnerabilities().size(),
              built_in_catalog()->vulnerabilities().size());
}

TEST(DropInName, OnlyPlainTomlNames) {
    EXPECT_TRUE(drop_in_name("site.toml"));
    EXPECT_TRUE(drop_in_name("10-acme_v2.toml"));
    for (const char* name :
         {".toml", ".site.toml", "site.txt", "../x.toml", "a/b.toml", "a b.toml", "site.toml~"}) {
        EXPECT_FALSE(drop_in_name(name)) << name;
    }
}

TEST_F(CatalogDirectoryTest, AnInstalledDropInIsCheckedWrittenAndTakenAtTheNextReload) {
    CatalogDirectory directory(dir_ / "vulnerabilities.d");  // made by the first install
    ASSERT_TRUE(directory.reload_if_changed());
    const size_t built_in = directory.snapshot()->vulnerabilities().size();
    const DropInInstall done = directory.install("site.toml", kAcme);
    ASSERT_TRUE(done.installed);
    EXPECT_EQ(done.entries, 1u);
    ASSERT_TRUE(directory.reload_if_changed());
    EXPECT_EQ(directory.snapshot()->vulnerabilities().size(), built_in + 1);
    const std::vector<DropInFile> files = directory.drop_ins();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].name, "site.toml");
    EXPECT_EQ(files[0].entries, 1u);
    EXPECT_TRUE(files[0].errors.empty());
}

TEST_F(CatalogDirectoryTest, AnInvalidDropInIsRefusedWithItsLineAndKeepsTheOneInForce) {
    CatalogDirectory directory(dir_);
    ASSERT_TRUE(directory.install("site.toml", kAcme).installed);
    const DropInInstall refused =
        directory.install("site.toml", "schema = 1\n[[vulnerability]]\nids = [\"CVE-1\"]\n");
    EXPECT_FALSE(refused.installed);
    EXPECT_FALSE(refused.unavailable);
    ASSERT_FALSE(refused.errors.empty());
    EXPECT_EQ(refused.errors[0].line, 3);
    EXPECT_GT(refused.errors[0].column, 0);
    std::ifstream in(dir_ / "site.toml");
    std::ostringstream kept;
    kept << in.rdbuf();
    EXPECT_EQ(kept.str(), kAcme);  // the accepted file is untouched
    // Not TOML at all.
    EXPECT_FALSE(directory.install("other.toml", "[[[").installed);
    EXPECT_FALSE(fs::exists(dir_ / "other.toml"));
}

TEST_F(CatalogDirectoryTest, HostileNamesAndSizesAreRefusedAndNothingIsWritten) {
    CatalogDirectory directory(dir_ / "d");
    for (const std::string& name :
         {std::string("../escape.toml"), std::string("..toml"), std::string(".hidden.toml"),
          std::string("a/b.toml"), std::string("site.txt"), std::string("si te.toml"),
          std::string("site\n.toml"), std::string(200, 'a') + ".toml", std::string(".toml"),
          std::string("")}) {
        const DropInInstall refused = directory.install(name, kAcme);
        EXPECT_FALSE(refused.installed) << name;
        ASSERT_FALSE(refused.errors.empty()) << name;
        EXPECT_EQ(refused.errors[0].line, 0) << name;
    }
    EXPECT_FALSE(fs::exists(dir_ / "escape.toml"));
    EXPECT_FALSE(fs::exists(dir_ / "d"));
    const std::string huge(5 * 1024 * 1024, '#');
    const DropInInstall too_big = directory.install("huge.toml", huge);
    EXPECT_FALSE(too_big.installed);
    EXPECT_FALSE(fs::exists(dir_ / "d" / "huge.toml"));
}

}  // namespace
}  // namespace vigil::hub::recommend
