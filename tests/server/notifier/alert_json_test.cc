// The JSON body of POST /api/v2/alerts: the fields, key order and time format that
// Prometheus 2.42 sends (models.PostableAlerts through encoding/json; Go also escapes
// <, > and & as \u003c..., which decodes to the same strings).
#include "server/notifier/alert_json.h"

#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace cairn::notifier {
namespace {

TEST(AlertJsonTest, PrometheusShapeAndKeyOrder) {
  Alert a;
  a.labels = Labels{{"alertname", "DiskFull"}, {"instance", "a:9100"}};
  a.annotations = Labels{{"summary", "disk \"/\" full"}};
  a.starts_at_ms = 1765015200123;  // 2025-12-06T10:00:00.123Z
  a.ends_at_ms = 1765015440000;
  a.generator_url = "http://cairn:9090/graph?g0.expr=up&g0.tab=1";
  EXPECT_EQ(EncodeAlertsV2({a}),
            "[{\"annotations\":{\"summary\":\"disk \\\"/\\\" full\"},"
            "\"endsAt\":\"2025-12-06T10:04:00.000Z\","
            "\"startsAt\":\"2025-12-06T10:00:00.123Z\","
            "\"generatorURL\":\"http://cairn:9090/graph?g0.expr=up&g0.tab=1\","
            "\"labels\":{\"alertname\":\"DiskFull\",\"instance\":\"a:9100\"}}]");
}

TEST(AlertJsonTest, UnsetFieldsLeftOut) {
  Alert a;
  a.labels = Labels{{"alertname", "X"}};
  EXPECT_EQ(EncodeAlertsV2({a}), "[{\"labels\":{\"alertname\":\"X\"}}]");
  EXPECT_EQ(EncodeAlertsV2({}), "[]");
}

TEST(AlertJsonTest, RangeAndValidJson) {
  std::vector<Alert> alerts(5);
  for (int i = 0; i < 5; ++i) {
    alerts[i].labels = Labels{{"alertname", "A"}, {"i", std::to_string(i)}};
  }
  std::string body = EncodeAlertsV2(alerts, 1, 4);
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  ASSERT_FALSE(doc.HasParseError()) << body;
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 3u);
  EXPECT_STREQ(doc[0]["labels"]["i"].GetString(), "1");
  EXPECT_STREQ(doc[2]["labels"]["i"].GetString(), "3");
}

TEST(AlertJsonTest, Rfc3339Millis) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace cairn::notifier
