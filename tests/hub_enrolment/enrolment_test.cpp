#include "vigil/hub/enrolment_service.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "temp_dir.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub {
namespace {

// As the broker: an id can be enrolled once, and only an account it holds can be revoked.
class FakeAccounts : public DeviceAccounts {
  public:
    bool add_device(const std::string& device_id, EnrolmentCredentials& out,
                    std::string& error) override {
        if (!accounts.insert(device_id).second) {
            error = "already enrolled";
            return false;
        }
        out.device_id = out.username = out.client_id = device_id;
        out.password = "secret";
        return true;
    }
    bool revoke_device(const std::string& device_id, std::string& error) override {
        if (accounts.erase(device_id) == 0) {
            error = "Client not found";
            return false;
        }
        return true;
    }
    std::set<std::string> accounts;
};

class EnrolmentPolicy : public ::testing::Test {
  protected:
    void SetUp() override {
        SqliteOptions options;
        options.path = dir_.file("vigil.db");
        std::string error;
        store_ = open_sqlite_store(options, error);
        ASSERT_NE(store_, nullptr) << error;
    }

    std::optional<Enrolment> listed(const std::string& id) {
        const Fetched<DevicePage> page = store_->list_devices({});
        for (const DeviceRow& row : page.value.devices) {
            if (row.id == id) {
                return row.enrolment;
            }
        }
        return std::nullopt;
    }

    vigil::test::TempDir dir_;
    std::unique_ptr<Store> store_;
    FakeAccounts accounts_;
};

TEST_F(EnrolmentPolicy, Enrol_createsTheAccountAndListsTheDevice) {
    EnrolmentService service(accounts_, store_.get());
    const EnrolOutcome e = service.enrol("gw-1");
    ASSERT_TRUE(e.ok()) << e.error;
    EXPECT_EQ(e.credentials.password, "secret");
    EXPECT_TRUE(e.store_error.empty());
    EXPECT_EQ(listed("gw-1"), Enrolment::Enrolled);
    const EnrolOutcome again = service.enrol("gw-1");
    EXPECT_FALSE(again.ok());
    EXPECT_EQ(again.error, "already enrolled");
}

TEST_F(EnrolmentPolicy, Revoke_marksBlockedAndASecondRevocationSucceedsAgain) {
    EnrolmentService service(accounts_, store_.get());
    ASSERT_TRUE(service.enrol("gw-1").ok());
    const RevokeOutcome first = service.revoke("gw-1");
    EXPECT_EQ(first.result, Revocation::Revoked) << first.error;
    EXPECT_EQ(listed("gw-1"), Enrolment::Blocked);
    const RevokeOutcome second = service.revoke("gw-1");
    EXPECT_EQ(second.result, Revocation::AlreadyBlocked);
    EXPECT_TRUE(second.ok());
}

TEST_F(EnrolmentPolicy, Revoke_ofADeviceNobodyKnowsFailsAndListsNothing) {
    EnrolmentService service(accounts_, store_.get());
    const RevokeOutcome r = service.revoke("nobody");
    EXPECT_EQ(r.result, Revocation::UnknownDevice);
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find("nobody"), std::string::npos);
    EXPECT_FALSE(listed("nobody").has_value());
}

TEST_F(EnrolmentPolicy, Revoke_refusedByTheBrokerOfADeviceNotBlockedFails) {
    EnrolmentService service(accounts_, store_.get());
    ASSERT_TRUE(store_->set_enrolment("gw-2", Enrolment::Enrolled).ok());  // no broker account
    const RevokeOutcome r = service.revoke("gw-2");
    EXPECT_EQ(r.result, Revocation::BrokerRefused);
    EXPECT_EQ(r.error, "Client not found");
    EXPECT_EQ(listed("gw-2"), Enrolment::Enrolled);
}

TEST_F(EnrolmentPolicy, WithoutAStore_theBrokersAnswerIsTheWholeAnswer) {
    EnrolmentService service(accounts_, nullptr);
    EXPECT_TRUE(service.enrol("gw-3").ok());
    EXPECT_EQ(service.revoke("gw-3").result, Revocation::Revoked);
    EXPECT_EQ(service.revoke("gw-3").result, Revocation::BrokerRefused);
}

}  // namespace
}  // namespace vigil::hub
