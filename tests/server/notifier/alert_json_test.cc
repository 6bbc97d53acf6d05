// The JSON body of POST /api/v2/alerts: byte for byte what Prometheus 2.42 sends
// for the same alert (models.PostableAlerts through Go's encoding/json; captured
// from Prometheus with a rule `vector(1)` and a listening socket).
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
            "\"generatorURL\":\"http://cairn:9090/graph?g0.expr=up\\u0026g0.tab=1\","
            "\"labels\":{\"alertname\":\"DiskFull\",\"instance\":\"a:9100\"}}]");
}

TEST(AlertJsonTest, ByteIdenticalToPrometheus) {
  // Prometheus 2.42 sent exactly this for rule AlwaysFiring (expr vector(1), label
  // severity=page, annotation summary "value {{ $value }} <&>", external label
  // cluster=c1).
  Alert a;
  a.labels = Labels{{"alertname", "AlwaysFiring"}, {"cluster", "c1"}, {"severity", "page"}};
  a.annotations = Labels{{"summary", "value 1 <&>"}};
  a.starts_at_ms = 1796555454632;
  a.ends_at_ms = 1796555462632;
  a.generator_url = "http://vm:43753/graph?g0.expr=vector%281%29&g0.tab=1";
  EXPECT_EQ(EncodeAlertsV2({a}),
            R"([{"annotations":{"summary":"value 1 \u003c\u0026\u003e"},)"
            R"("endsAt":"2026-12-06T11:11:02.632Z","startsAt":"2026-12-06T11:10:54.632Z",)"
            R"("generatorURL":"http://vm:43753/graph?g0.expr=vector%281%29\u0026g0.tab=1",)"
            R"("labels":{"alertname":"AlwaysFiring","cluster":"c1","severity":"page"}}])");
}

TEST(AlertJsonTest, LineSeparatorsEscapedAsGoDoes) {
  Alert a;
  a.labels = Labels{{"alertname", "A\u2028B\u2029C"}};
  EXPECT_EQ(EncodeAlertsV2({a}),
            R"([{"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"0001-01-01T00:00:00.000Z",)"
            R"("labels":{"alertname":"A\u2028B\u2029C"}}])");
}

TEST(AlertJsonTest, UnsetFieldsAsGoMarshalsThem) {
  Alert a;
  a.labels = Labels{{"alertname", "X"}};
  // Empty annotations and generatorURL are omitempty; times are Go's zero time.
  EXPECT_EQ(EncodeAlertsV2({a}),
            R"([{"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"0001-01-01T00:00:00.000Z",)"
            R"("labels":{"alertname":"X"}}])");
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
