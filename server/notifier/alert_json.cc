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

// Go's encoding/json escapes <, > and & (HTML safety) and U+2028/U+2029 inside
// strings; doing the same makes the body byte-identical to Prometheus'. These
// characters never occur in JSON outside strings, so a pass over the text is enough.
std::string GoEscape(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xa8' || json[i + 2] == '\xa9')) {
      out += json[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string FormatRfc3339Millis(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string FormatAlertTime(int64_t unix_ms) {
  return unix_ms == 0 ? "0001-01-01T00:00:00.000Z" : FormatRfc3339Millis(unix_ms);
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
    // Always present, as Go's omitempty does not apply to a struct (strfmt.DateTime).
    w.Key("endsAt");
    WriteString(&w, FormatAlertTime(a.ends_at_ms));
    w.Key("startsAt");
    WriteString(&w, FormatAlertTime(a.starts_at_ms));
    if (!a.generator_url.empty()) {
      w.Key("generatorURL");
      WriteString(&w, a.generator_url);
    }
    w.Key("labels");
    WriteLabelSet(&w, a.labels);
    w.EndObject();
  }
  w.EndArray();
  return GoEscape(std::string_view(sb.GetString(), sb.GetSize()));
}

}  // namespace cairn::notifier
