#include "server/metrics_registry.h"

#include <limits>

#include "gtest/gtest.h"

namespace cairn::server {
namespace {

TEST(MetricsRegistryTest, RendersTextFormat) {
  MetricsRegistry reg;
  auto* c = reg.AddCounter("cairn_requests_total", "Requests.", {"handler", "code"});
  c->Inc({"/q", "200"});
  c->Inc({"/q", "200"}, 2);
  c->Inc({"/w", "4\"00"});
  auto* g = reg.AddGauge("cairn_up", "Up.");
  g->Set({}, 1);
  auto* h = reg.AddHistogram("cairn_latency_seconds", "Latency.", {}, {0.1, 1});
  h->Observe({}, 0.05);
  h->Observe({}, 0.5);
  h->Observe({}, 5);
  std::string want =
      "# HELP cairn_requests_total Requests.\n"
      "# TYPE cairn_requests_total counter\n"
      "cairn_requests_total{handler=\"/q\",code=\"200\"} 3\n"
      "cairn_requests_total{handler=\"/w\",code=\"4\\\"00\"} 1\n"
      "# HELP cairn_up Up.\n"
      "# TYPE cairn_up gauge\n"
      "cairn_up 1\n"
      "# HELP cairn_latency_seconds Latency.\n"
      "# TYPE cairn_latency_seconds histogram\n"
      "cairn_latency_seconds_bucket{le=\"0.1\"} 1\n"
      "cairn_latency_seconds_bucket{le=\"1\"} 2\n"
      "cairn_latency_seconds_bucket{le=\"+Inf\"} 3\n"
      "cairn_latency_seconds_sum 5.55\n"
      "cairn_latency_seconds_count 3\n";
  EXPECT_EQ(reg.Render(), want);
}

TEST(MetricsRegistryTest, CollectorsRunBeforeRender) {
  MetricsRegistry reg;
  auto* g = reg.AddGauge("cairn_series", "Series.");
  int calls = 0;
  reg.AddCollector([&] { g->Set({}, ++calls * 10); });
  EXPECT_NE(reg.Render().find("cairn_series 10\n"), std::string::npos);
  EXPECT_NE(reg.Render().find("cairn_series 20\n"), std::string::npos);
}

TEST(MetricsRegistryTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(1e21), "1e+21");
}

}  // namespace
}  // namespace cairn::server
