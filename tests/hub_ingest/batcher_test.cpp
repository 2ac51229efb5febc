// When ingest commits and retries, with a clock in hand: no broker, no store.
#include "vigil/hub/batcher.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::hub {
namespace {

BatchPolicy policy() {
    BatchPolicy p;
    p.max_items = 3;
    p.max_age_ms = 20;
    p.retry_min_ms = 50;
    p.retry_max_ms = 150;
    return p;
}

TEST(Batcher, Due_whenFullOrWhenTheOldestHasWaitedLongEnough) {
    Batcher<int> b(policy());
    EXPECT_FALSE(b.due(0, false));  // nothing held
    b.add(1, 100);
    b.add(2, 110);
    EXPECT_FALSE(b.due(119, false));
    EXPECT_TRUE(b.due(120, false));  // the oldest has waited 20 ms
    b.add(3, 115);
    EXPECT_TRUE(b.due(115, false));  // full
}

TEST(Batcher, Due_atOnceWhenStopping) {
    Batcher<int> b(policy());
    b.add(1, 100);
    EXPECT_FALSE(b.due(101, false));
    EXPECT_TRUE(b.due(101, true));
}

TEST(Batcher, Take_oneCommitAtATimeAndWhatArrivesMeanwhileWaitsForTheNext) {
    Batcher<int> b(policy());
    b.add(1, 0);
    b.add(2, 0);
    b.add(3, 0);
    const std::vector<int> first = b.take();
    EXPECT_EQ(first, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(b.committing());
    b.add(4, 30);
    b.add(5, 31);
    b.add(6, 32);
    EXPECT_FALSE(b.due(100, false));  // full and old, but a commit runs
    EXPECT_FALSE(b.due(100, true));
    EXPECT_FALSE(b.idle());
    b.committed(first);
    EXPECT_TRUE(b.due(32, false));
    EXPECT_EQ(b.take(), (std::vector<int>{4, 5, 6}));
    b.committed({});
    EXPECT_TRUE(b.idle());
}

TEST(Batcher, Failed_holdsTheBatchAgainInFrontAndKeepsItsAge) {
    BatchPolicy p = policy();
    p.max_items = 10;
    p.max_age_ms = 100;
    p.retry_min_ms = 10;
    Batcher<int> b(p);
    b.add(1, 0);
    b.add(2, 1);
    std::vector<int> batch = b.take();
    b.add(3, 50);  // arrived during the commit
    EXPECT_EQ(b.failed(std::move(batch), 60), 10u);
    EXPECT_EQ(b.items(), (std::vector<int>{1, 2, 3}));
    EXPECT_FALSE(b.committing());
    EXPECT_FALSE(b.due(69, true));  // the backoff runs to 70, even when stopping
    EXPECT_TRUE(b.due(70, true));
    // The batch is as old as its first message, not as the last one to arrive.
    EXPECT_FALSE(b.due(99, false));
    EXPECT_TRUE(b.due(100, false));
}

TEST(Batcher, Failed_doublesTheBackoffUpToTheMaximumAndSuccessResetsIt) {
    Batcher<int> b(policy());
    b.add(1, 0);
    int64_t now = 0;
    std::vector<uint32_t> backoffs;
    for (int i = 0; i < 4; ++i) {
        std::vector<int> batch = b.take();
        backoffs.push_back(b.failed(std::move(batch), now));
        now += backoffs.back();
        ASSERT_TRUE(b.due(now, false));
    }
    EXPECT_EQ(backoffs, (std::vector<uint32_t>{50, 100, 150, 150}));
    b.committed(b.take());
    b.add(2, now);
    EXPECT_EQ(b.failed(b.take(), now), 50u);
}

TEST(Batcher, WaitMs_untilTheBatchIsDueOrTheBackoffEnds) {
    Batcher<int> b(policy());
    EXPECT_EQ(b.wait_ms(0, false, 5), 5);  // nothing held: the cap
    b.add(1, 100);
    EXPECT_EQ(b.wait_ms(117, false, 5), 3);
    EXPECT_EQ(b.wait_ms(130, false, 5), 0);
    EXPECT_EQ(b.wait_ms(101, true, 5), 5);  // stopping: due already, the loop commits at once
    b.failed(b.take(), 130);                // backoff until 180
    EXPECT_EQ(b.wait_ms(178, false, 5), 2);
}

}  // namespace
}  // namespace vigil::hub
