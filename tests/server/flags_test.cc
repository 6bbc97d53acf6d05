#include "server/flags.h"

#include <vector>

#include "gtest/gtest.h"

namespace cairn::server {
namespace {

absl::StatusOr<ServerFlags> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "cairn");
  return ParseServerFlags(static_cast<int>(args.size()), args.data());
}

TEST(FlagsTest, DefaultsMatchPrometheus) {
  auto f = Parse({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->storage_path, "data");
  EXPECT_EQ(f->retention_time, "15d");
  EXPECT_EQ(f->web_listen_address, "0.0.0.0:9090");
  EXPECT_EQ(f->query_max_samples, 50000000);
  EXPECT_FALSE(f->enable_admin_api);
}

TEST(FlagsTest, BothValueFormsAndBooleans) {
  auto f = Parse({"--storage.tsdb.path=/x", "--web.listen-address", ":1234",
                  "--web.enable-admin-api", "--query.max-samples=7"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->storage_path, "/x");
  EXPECT_EQ(f->web_listen_address, ":1234");
  EXPECT_TRUE(f->enable_admin_api);
  EXPECT_EQ(f->query_max_samples, 7);
  f = Parse({"--web.enable-admin-api", "--no-web.enable-admin-api"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->enable_admin_api);
}

TEST(FlagsTest, WebConfigFile) {
  auto f = Parse({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->web_config_file, "");  // off by default, as in Prometheus
  f = Parse({"--web.config.file=/etc/cairn/web.yml"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->web_config_file, "/etc/cairn/web.yml");
  EXPECT_NE(ServerFlagsUsage().find("--web.config.file=VALUE"), std::string::npos);
}

TEST(FlagsTest, ErrorsNameTheFlag) {
  auto f = Parse({"--nope=1"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--nope"), absl::string_view::npos);
  f = Parse({"--query.max-samples=abc"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("query.max-samples"), absl::string_view::npos);
  f = Parse({"--storage.tsdb.retention.time=5x"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("retention.time"), absl::string_view::npos);
  f = Parse({"--config.file"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("needs a value"), absl::string_view::npos);
}

TEST(FlagsTest, AlertmanagerQueueCapacity) {
  auto f = Parse({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->alertmanager_queue_capacity, 10000);
  f = Parse({"--alertmanager.notification-queue-capacity=50"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->alertmanager_queue_capacity, 50);
  f = Parse({"--alertmanager.notification-queue-capacity=0"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("must be positive"), absl::string_view::npos);
}

TEST(FlagsTest, LimitFlags) {
  auto f = Parse({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->web_max_connections, 512);  // Prometheus' default
  EXPECT_EQ(f->tsdb_max_series, 0);        // no limit unless asked
  f = Parse({"--web.max-request-body-size=1MB", "--web.max-connections=3",
             "--storage.remote-write.max-decompressed-size=2MB",
             "--storage.remote-write.max-series-per-request=4",
             "--storage.remote-write.max-samples-per-request=5",
             "--storage.remote-write.max-labels-per-series=6",
             "--storage.remote-write.max-label-name-length=7",
             "--storage.remote-write.max-label-value-length=8", "--storage.tsdb.max-series=9"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->web_max_request_body_size, "1MB");
  EXPECT_EQ(f->web_max_connections, 3);
  EXPECT_EQ(f->remote_write_max_decompressed_size, "2MB");
  EXPECT_EQ(f->remote_write_max_series_per_request, 4);
  EXPECT_EQ(f->remote_write_max_samples_per_request, 5);
  EXPECT_EQ(f->remote_write_max_labels_per_series, 6);
  EXPECT_EQ(f->remote_write_max_label_name_length, 7);
  EXPECT_EQ(f->remote_write_max_label_value_length, 8);
  EXPECT_EQ(f->tsdb_max_series, 9);
  f = Parse({"--storage.tsdb.max-series=-1"});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "flag --storage.tsdb.max-series: must not be negative (0 disables the limit), got -1");
  f = Parse({"--web.max-request-body-size=lots"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("web.max-request-body-size"), absl::string_view::npos);
  f = Parse({"--query.max-concurrency=0"});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "flag --query.max-concurrency: must be at least 1, got 0");
  f = Parse({"--web.max-connections=x"});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "flag --web.max-connections: expected an integer, got \"x\"");
}

TEST(FlagsTest, Durations) {
  EXPECT_EQ(*ParsePrometheusDuration("15d"), 15LL * 86400 * 1000);
  EXPECT_EQ(*ParsePrometheusDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParsePrometheusDuration("500ms"), 500);
  EXPECT_EQ(*ParsePrometheusDuration("1m5s"), 65000);
  EXPECT_EQ(*ParsePrometheusDuration("0"), 0);
  EXPECT_FALSE(ParsePrometheusDuration("5m1h").ok());  // units out of order
  EXPECT_FALSE(ParsePrometheusDuration("h").ok());
  EXPECT_FALSE(ParsePrometheusDuration("").ok());
  EXPECT_FALSE(ParsePrometheusDuration("99999999999999999999y").ok());
}

TEST(FlagsTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("512MB"), 512LL << 20);
  EXPECT_EQ(*ParseByteSize("1GB"), 1LL << 30);
  EXPECT_EQ(*ParseByteSize("0"), 0);
  EXPECT_FALSE(ParseByteSize("12XB").ok());
}

}  // namespace
}  // namespace cairn::server
