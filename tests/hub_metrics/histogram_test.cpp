#include "vigil/hub/histogram.hpp"

#include <gtest/gtest.h>

namespace vigil::hub {
namespace {

TEST(Histogram, Observe_countsInTheFirstBucketWhoseBoundHoldsTheValue) {
    Histogram h({1, 5, 10});
    for (const double v : {0.5, 1.0, 1.5, 5.0, 7.0, 10.0, 11.0, 1000.0}) {
        h.observe(v);
    }
    EXPECT_EQ(h.in_bucket(0), 2u);  // 0.5, 1: a bound is "less or equal"
    EXPECT_EQ(h.in_bucket(1), 2u);  // 1.5, 5
    EXPECT_EQ(h.in_bucket(2), 2u);  // 7, 10
    EXPECT_EQ(h.in_bucket(3), 2u);  // the overflow: 11, 1000
    EXPECT_EQ(h.count(), 8u);
    EXPECT_DOUBLE_EQ(h.sum(), 1036.0);
}

TEST(Histogram, Quantile_isLinearInsideTheBucketAsPrometheusReadsIt) {
    Histogram h({10, 20});
    EXPECT_EQ(h.quantile(0.5), 0);  // empty
    for (int i = 0; i < 4; ++i) {
        h.observe(5);   // bucket (0, 10]
        h.observe(15);  // bucket (10, 20]
    }
    EXPECT_DOUBLE_EQ(h.quantile(0.25), 5.0);   // rank 2 of 4 in the first bucket
    EXPECT_DOUBLE_EQ(h.quantile(0.5), 10.0);   // rank 4: the first bucket's bound
    EXPECT_DOUBLE_EQ(h.quantile(0.75), 15.0);  // rank 6: halfway through the second
    h.observe(100);
    EXPECT_DOUBLE_EQ(h.quantile(1.0), 20.0);  // in the overflow: the last bound
}

TEST(Histogram, Write_givesCumulativeBucketsThenInfSumAndCount) {
    Histogram h({0.001, 0.0025, 1});
    h.observe(0.0009765625);  // 2^-10: sums exactly
    h.observe(0.5);
    h.observe(3);
    PrometheusWriter out;
    h.write(out, "d_seconds", {{"route", "/a"}});
    EXPECT_EQ(out.text(),
              "d_seconds_bucket{route=\"/a\",le=\"0.001\"} 1\n"
              "d_seconds_bucket{route=\"/a\",le=\"0.0025\"} 1\n"
              "d_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"
              "d_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
              "d_seconds_sum{route=\"/a\"} 3.5009765625\n"
              "d_seconds_count{route=\"/a\"} 3\n");
}

TEST(PrometheusWriter, Sample_writesIntegersWithoutAFraction) {
    PrometheusWriter out;
    out.family("x", "gauge", "X.");
    out.sample("x", {}, 12);
    out.sample("x", {{"k", "v"}}, 0.25);
    EXPECT_EQ(out.text(), "# HELP x X.\n# TYPE x gauge\nx 12\nx{k=\"v\"} 0.25\n");
}

}  // namespace
}  // namespace vigil::hub
