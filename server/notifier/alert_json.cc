#include "server/notifier/alert_json.h"

#include "absl/time/time.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace cairn::notifier {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteLabelSet(JsonWriter* w, const Labels& labels) {
  w->StartObject();
  for (const Label& l : labels) {
    WriteString(w, l.name);
    WriteString(w, l.value);
  }
  w->EndObject();
}

}  // namespace

std::string FormatRfc3339Millis(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string EncodeAlertsV2(const std::vector<Alert>& alerts, size_t begin, size_t end) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartArray();
  for (size_t i = begin; i < end; ++i) {
    const Alert& a = alerts[i];
    // Key order as Go marshals models.PostableAlert.
    w.StartObject();
    if (!a.annotations.empty()) {
      w.Key("annotations");
      WriteLabelSet(&w, a.annotations);
    }
    if (a.ends_at_ms != 0) {
      w.Key("endsAt");
      WriteString(&w, FormatRfc3339Millis(a.ends_at_ms));
    }
    if (a.starts_at_ms != 0) {
      w.Key("startsAt");
      WriteString(&w, FormatRfc3339Millis(a.starts_at_ms));
    }
    if (!a.generator_url.empty()) {
      w.Key("generatorURL");
      WriteString(&w, a.generator_url);
    }
    w.Key("labels");
    WriteLabelSet(&w, a.labels);
    w.EndObject();
  }
  w.EndArray();
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace cairn::notifier
