// Loading prometheus.yml. Defaults and messages follow Prometheus 2.42's
// config/config.go and docs/configuration/configuration.md.
#include "server/config/config.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cairn::config {
namespace {

using ::testing::HasSubstr;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(ConfigTest, EmptyFileHasPrometheusDefaults) {
  auto cfg = ParseConfig("", "p.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->global.scrape_interval, absl::Minutes(1));
  EXPECT_EQ(cfg->global.scrape_timeout, absl::Seconds(10));
  EXPECT_EQ(cfg->global.evaluation_interval, absl::Minutes(1));
  EXPECT_TRUE(cfg->scrape_configs.empty());
}

TEST(ConfigTest, ScrapeConfigDefaultsInheritGlobal) {
  auto cfg = ParseConfig(R"(
global:
  scrape_interval: 15s
  external_labels:
    region: eu
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['localhost:9100', 'other:9100']
        labels: {env: prod}
)",
                         "p.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->global.external_labels.Get("region"), "eu");
  ASSERT_EQ(cfg->scrape_configs.size(), 1u);
  const ScrapeConfig& sc = cfg->scrape_configs[0];
  EXPECT_EQ(sc.job_name, "node");
  EXPECT_EQ(sc.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(10));
  EXPECT_EQ(sc.metrics_path, "/metrics");
  EXPECT_EQ(sc.scheme, "http");
  EXPECT_FALSE(sc.honor_labels);
  EXPECT_TRUE(sc.honor_timestamps);
  ASSERT_EQ(sc.static_configs.size(), 1u);
  EXPECT_EQ(sc.static_configs[0].targets,
            (std::vector<std::string>{"localhost:9100", "other:9100"}));
  EXPECT_EQ(sc.static_configs[0].labels.Get("env"), "prod");
}

TEST(ConfigTest, TimeoutCappedAtShortInterval) {
  // Global timeout 10s is longer than the job's 5s interval: the timeout becomes 5s.
  auto cfg = ParseConfig("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n", "p.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->scrape_configs[0].scrape_timeout, absl::Seconds(5));
  auto g = ParseConfig("global:\n  scrape_interval: 5s\n", "p.yml");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->global.scrape_timeout, absl::Seconds(5));
}

TEST(ConfigTest, ExplicitTimeoutOverIntervalRefused) {
  auto cfg = ParseConfig(
      "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
      "p.yml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(Msg(cfg.status()), HasSubstr("scrape timeout greater than scrape interval"));
  auto g = ParseConfig("global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n", "p.yml");
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(Msg(g.status()), HasSubstr("global scrape timeout greater than scrape interval"));
}

TEST(ConfigTest, AllScrapeFields) {
  auto cfg = ParseConfig(R"(
scrape_configs:
  - job_name: full
    scrape_interval: 30s
    scrape_timeout: 20s
    metrics_path: /probe
    scheme: https
    params:
      module: [http_2xx]
    honor_labels: true
    honor_timestamps: false
    basic_auth:
      username: u
      password: p
    tls_config:
      ca_file: /ca.pem
      cert_file: /c.pem
      key_file: /k.pem
      insecure_skip_verify: true
    sample_limit: 1000
    label_limit: 30
    body_size_limit: 10MB
    file_sd_configs:
      - files: [targets/*.json]
        refresh_interval: 1m
      - files: [other.yml]
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
      - action: labelmap
        regex: __meta_(.+)
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: go_.*
  - job_name: bearer
    bearer_token: secret
  - job_name: authz
    authorization:
      credentials_file: /tok
)",
                         "p.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const ScrapeConfig& sc = cfg->scrape_configs[0];
  EXPECT_EQ(sc.scrape_interval, absl::Seconds(30));
  EXPECT_EQ(sc.scrape_timeout, absl::Seconds(20));
  EXPECT_EQ(sc.metrics_path, "/probe");
  EXPECT_EQ(sc.scheme, "https");
  EXPECT_EQ(sc.params.at("module"), std::vector<std::string>{"http_2xx"});
  EXPECT_TRUE(sc.honor_labels);
  EXPECT_FALSE(sc.honor_timestamps);
  EXPECT_TRUE(sc.has_basic_auth);
  EXPECT_EQ(sc.basic_auth.username, "u");
  EXPECT_EQ(sc.basic_auth.password, "p");
  EXPECT_EQ(sc.tls_config.ca_file, "/ca.pem");
  EXPECT_TRUE(sc.tls_config.insecure_skip_verify);
  EXPECT_EQ(sc.sample_limit, 1000u);
  EXPECT_EQ(sc.label_limit, 30u);
  EXPECT_EQ(sc.body_size_limit, 10u * 1024 * 1024);  // Prometheus sizes are base 2
  ASSERT_EQ(sc.file_sd_configs.size(), 2u);
  EXPECT_EQ(sc.file_sd_configs[0].refresh_interval, absl::Minutes(1));
  EXPECT_EQ(sc.file_sd_configs[1].refresh_interval, absl::Minutes(5));
  ASSERT_EQ(sc.relabel_configs.size(), 2u);
  EXPECT_EQ(sc.relabel_configs[0].action, RelabelAction::kReplace);
  EXPECT_EQ(sc.relabel_configs[0].regex_text, "(.*)");
  EXPECT_EQ(sc.relabel_configs[0].replacement, "$1");
  EXPECT_EQ(sc.relabel_configs[0].separator, ";");
  EXPECT_EQ(sc.relabel_configs[1].action, RelabelAction::kLabelMap);
  ASSERT_EQ(sc.metric_relabel_configs.size(), 1u);
  EXPECT_EQ(sc.metric_relabel_configs[0].action, RelabelAction::kDrop);

  const ScrapeConfig& b = cfg->scrape_configs[1];
  EXPECT_TRUE(b.has_authorization);
  EXPECT_EQ(b.authorization.type, "Bearer");
  EXPECT_EQ(b.authorization.credentials, "secret");
  EXPECT_EQ(cfg->scrape_configs[2].authorization.credentials_file, "/tok");
}

TEST(ConfigTest, RuleFilesAndAlertingKept) {
  auto cfg = ParseConfig(R"(
rule_files: [rules/*.yml, extra.yml]
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
  alertmanagers:
    - static_configs:
        - targets: ['am:9093']
      timeout: 5s
)",
                         "p.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->rule_files, (std::vector<std::string>{"rules/*.yml", "extra.yml"}));
  ASSERT_EQ(cfg->alerting.alertmanagers.size(), 1u);
  EXPECT_EQ(cfg->alerting.alertmanagers[0].timeout, absl::Seconds(5));
  EXPECT_EQ(cfg->alerting.alertmanagers[0].api_version, "v2");
  EXPECT_EQ(cfg->alerting.alertmanagers[0].static_configs[0].targets[0], "am:9093");
  EXPECT_EQ(cfg->alerting.alert_relabel_configs.size(), 1u);
}

TEST(ConfigTest, AlertmanagerApiV1AndBadSchemeRefused) {
  auto v1 = ParseConfig(
      "alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs:\n"
      "        - targets: ['am:9093']\n",
      "p.yml");
  ASSERT_FALSE(v1.ok());
  EXPECT_EQ(v1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(v1.status()), HasSubstr("p.yml:3: alertmanager api_version v1 is not supported"));
  auto v3 = ParseConfig("alerting:\n  alertmanagers:\n    - api_version: v3\n", "p.yml");
  ASSERT_FALSE(v3.ok());
  EXPECT_THAT(Msg(v3.status()), HasSubstr("one of [v1 v2] but got v3"));
  auto scheme = ParseConfig("alerting:\n  alertmanagers:\n    - scheme: ftp\n", "p.yml");
  ASSERT_FALSE(scheme.ok());
  EXPECT_THAT(Msg(scheme.status()),
              HasSubstr("p.yml:3: alertmanager scheme \"ftp\" not supported"));
  auto v2 = ParseConfig("alerting:\n  alertmanagers:\n    - api_version: v2\n      scheme: https\n",
                        "p.yml");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->alerting.alertmanagers[0].scheme, "https");
}

TEST(ConfigTest, UnknownFieldNamesFileLineAndField) {
  auto cfg =
      ParseConfig("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n", "conf/p.yml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(cfg.status()), HasSubstr("conf/p.yml:3:"));
  EXPECT_THAT(Msg(cfg.status()), HasSubstr("scrape_intervall"));
  auto top = ParseConfig("globl: {}\n", "p.yml");
  ASSERT_FALSE(top.ok());
  EXPECT_THAT(Msg(top.status()), HasSubstr("p.yml:1: field globl not found"));
}

TEST(ConfigTest, BadValuesNameTheField) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"global:\n  scrape_interval: 5 seconds\n", "p.yml:2: field scrape_interval"},
      {"scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n",
       "p.yml:3: field honor_labels"},
      {"scrape_configs:\n  - job_name: a\n    sample_limit: -1\n", "p.yml:3: field sample_limit"},
      {"scrape_configs:\n  - job_name: a\n    scheme: ftp\n", "scheme \"ftp\" not supported"},
      {"scrape_configs:\n  - job_name: a\n  - job_name: a\n",
       "multiple scrape configs with job name \"a\""},
      {"scrape_configs:\n  - scrape_interval: 5s\n", "job_name is empty"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: bogus\n",
       "p.yml:4: unknown relabel action"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: '('\n        "
       "target_label: x\n",
       "invalid relabel regex"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        "
       "target_label: x\n",
       "requires non-zero modulus"},
      {"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/']\n",
       "is not a valid hostname"},
      {"scrape_configs:\n  - job_name: a\n    bearer_token: x\n    basic_auth: {username: u}\n",
       "at most one of basic_auth"},
      {"scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [x.txt]\n",
       "not valid for file discovery"},
      {"global:\n  external_labels:\n    0bad: x\n", "\"0bad\" is not a valid label name"},
      {"scrape_configs: [\n", "p.yml:"},
  };
  for (const Case& c : cases) {
    auto cfg = ParseConfig(c.yaml, "p.yml");
    ASSERT_FALSE(cfg.ok()) << c.yaml;
    EXPECT_THAT(Msg(cfg.status()), HasSubstr(c.want)) << c.yaml;
  }
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(*ParsePromDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParsePromDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParsePromDuration("1d"), absl::Hours(24));
  EXPECT_EQ(*ParsePromDuration("2w"), absl::Hours(24 * 14));
  EXPECT_EQ(*ParsePromDuration("1y"), absl::Hours(24 * 365));
  EXPECT_EQ(*ParsePromDuration("0"), absl::ZeroDuration());
  EXPECT_FALSE(ParsePromDuration("").ok());
  EXPECT_FALSE(ParsePromDuration("1").ok());
  EXPECT_FALSE(ParsePromDuration("1m1h").ok());  // units must decrease
  EXPECT_FALSE(ParsePromDuration("1.5h").ok());
  EXPECT_EQ(FormatPromDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(FormatPromDuration(absl::Seconds(15)), "15s");
  EXPECT_EQ(FormatPromDuration(absl::Hours(24 * 14)), "2w");
  EXPECT_EQ(FormatPromDuration(absl::Hours(24 * 10)), "10d");
  EXPECT_EQ(FormatPromDuration(absl::ZeroDuration()), "0s");
}

TEST(ConfigTest, DefaultConfigScrapesSelf) {
  Config cfg = DefaultConfig("127.0.0.1:9090");
  ASSERT_EQ(cfg.scrape_configs.size(), 1u);
  EXPECT_EQ(cfg.scrape_configs[0].job_name, "cairn");
  EXPECT_EQ(cfg.scrape_configs[0].scrape_interval, absl::Seconds(15));
  EXPECT_EQ(cfg.scrape_configs[0].static_configs[0].targets[0], "127.0.0.1:9090");
}

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& body) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << body;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(FileTest, LoadConfigFileAndMissingFile) {
  auto ok = LoadConfigFile(Write("p.yml", "scrape_configs:\n  - job_name: x\n"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->scrape_configs[0].job_name, "x");
  auto missing = LoadConfigFile((dir_ / "nope.yml").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FileTest, FileSdJsonAndYaml) {
  std::string json = Write("t.json", R"([{"targets": ["a:1", "b:2"], "labels": {"env": "x"}}])");
  auto groups = LoadFileSdTargets(json);
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].targets, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ((*groups)[0].labels.Get("env"), "x");
  EXPECT_EQ((*groups)[0].labels.Get("__meta_filepath"), json);

  std::string yml = Write("t.yml", "- targets: [c:3]\n- targets: [d:4]\n  labels: {k: v}\n");
  auto g2 = LoadFileSdTargets(yml);
  ASSERT_TRUE(g2.ok()) << g2.status();
  ASSERT_EQ(g2->size(), 2u);
  EXPECT_EQ((*g2)[1].targets[0], "d:4");

  auto bad = LoadFileSdTargets(Write("bad.json", R"([{"targetz": []}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(Msg(bad.status()), HasSubstr("targetz"));
}

}  // namespace
}  // namespace cairn::config
