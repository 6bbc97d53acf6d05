#include "server/rules/rule_file.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/rules/template.h"
#include "tsdb/promql/parser.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::rules {
namespace {

// Go's utf8.ValidString, as model.LabelValue.IsValid.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong encodings, surrogates and values past U+10FFFF are invalid.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n;
  }
  return true;
}

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

// Collects every validation problem of one file, as promtool lists them all.
class RuleFileParser {
 public:
  explicit RuleFileParser(std::string_view filename) : filename_(filename) {}

  void Add(int line, std::string_view msg) {
    errors_.push_back(line > 0 ? absl::StrFormat("%s:%d: %s", filename_, line, msg)
                               : absl::StrFormat("%s: %s", filename_, msg));
  }

  // Refuses keys outside `allowed` with yaml.v3's wording. Returns false if any.
  bool CheckFields(const YAML::Node& node, std::string_view type,
                   std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) {
      Add(LineOf(node), absl::StrFormat("expected a mapping for type %s", type));
      return false;
    }
    bool ok = true;
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Add(LineOf(kv.first), absl::StrFormat("field %s not found in type %s", key, type));
        ok = false;
      }
    }
    return ok;
  }

  void File(const YAML::Node& root, std::vector<RuleGroupSpec>* out) {
    if (root.IsNull()) return;  // an empty file has no groups, as in Prometheus
    if (!CheckFields(root, "rulefmt.RuleGroups", {"groups"})) return;
    const YAML::Node groups = root["groups"];
    if (!groups || groups.IsNull()) return;
    if (!groups.IsSequence()) {
      Add(LineOf(groups), "field groups: expected a list of rule groups");
      return;
    }
    std::set<std::string> names;
    for (const auto& g : groups) {
      RuleGroupSpec spec;
      spec.file = filename_;
      if (!Group(g, &spec)) continue;
      if (spec.name.empty()) {
        Add(LineOf(g), "Groupname must not be empty");
      } else if (!names.insert(spec.name).second) {
        Add(LineOf(g),
            absl::StrFormat("groupname: \"%s\" is repeated in the same file", spec.name));
      }
      out->push_back(std::move(spec));
    }
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  bool Duration(const YAML::Node& v, std::string_view field, int64_t* out) {
    std::string s = v.IsScalar() ? v.Scalar() : "";
    absl::StatusOr<int64_t> d = promql::ParseDuration(s);
    if (!d.ok()) {
      Add(LineOf(v), absl::StrFormat("field %s: not a valid duration string: \"%s\"", field, s));
      return false;
    }
    *out = *d;
    return true;
  }

  bool Group(const YAML::Node& g, RuleGroupSpec* spec) {
    if (!CheckFields(g, "rulefmt.RuleGroup", {"name", "interval", "limit", "rules"})) return false;
    bool ok = true;
    for (const auto& kv : g) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "name") {
        if (!v.IsScalar()) {
          Add(LineOf(v), "field name: expected a string");
          ok = false;
        } else {
          spec->name = v.Scalar();
        }
      } else if (key == "interval") {
        ok = Duration(v, key, &spec->interval_ms) && ok;
      } else if (key == "limit") {
        std::string s = v.IsScalar() ? v.Scalar() : "";
        int64_t n = 0;
        bool valid = !s.empty() && s.size() < 19;
        size_t i = s[0] == '-' ? 1 : 0;
        valid = valid && i < s.size();
        for (; valid && i < s.size(); ++i) {
          if (s[i] < '0' || s[i] > '9') valid = false;
          if (valid) n = n * 10 + (s[i] - '0');
        }
        if (!valid) {
          Add(LineOf(v), absl::StrFormat("field limit: cannot unmarshal \"%s\" into int", s));
          ok = false;
        }
        spec->limit = s[0] == '-' ? -n : n;
      }
    }
    const YAML::Node rules = g["rules"];
    if (rules && !rules.IsNull()) {
      if (!rules.IsSequence()) {
        Add(LineOf(rules), "field rules: expected a list of rules");
        return false;
      }
      int index = 0;
      for (const auto& r : rules) {
        ++index;
        RuleSpec rule;
        Rule(r, spec->name, index, &rule);
        spec->rules.push_back(std::move(rule));
      }
    }
    return ok;
  }

  void Rule(const YAML::Node& r, const std::string& group, int index, RuleSpec* rule) {
    rule->line = LineOf(r);
    if (!CheckFields(
            r, "rulefmt.RuleNode",
            {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"})) {
      return;
    }
    int record_line = 0, alert_line = 0, expr_line = 0;
    bool has_record = false, has_alert = false, has_for = false, has_keep = false;
    auto scalar = [&](const YAML::Node& v, std::string_view field, std::string* out) {
      if (!v.IsScalar() && !v.IsNull()) {
        Add(LineOf(v), absl::StrFormat("field %s: expected a string", field));
        return;
      }
      *out = v.IsNull() ? "" : v.Scalar();
    };
    for (const auto& kv : r) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "record") {
        scalar(v, key, &rule->record);
        record_line = LineOf(v);
        has_record = true;
      } else if (key == "alert") {
        scalar(v, key, &rule->alert);
        alert_line = LineOf(v);
        has_alert = true;
      } else if (key == "expr") {
        scalar(v, key, &rule->expr);
        expr_line = LineOf(v);
      } else if (key == "for") {
        Duration(v, key, &rule->for_ms);
        has_for = true;
      } else if (key == "keep_firing_for") {
        Duration(v, key, &rule->keep_firing_for_ms);
        has_keep = true;
      } else if (key == "labels" || key == "annotations") {
        auto* dst = key == "labels" ? &rule->labels : &rule->annotations;
        if (v.IsNull()) continue;
        if (!v.IsMap()) {
          Add(LineOf(v), absl::StrFormat("field %s: expected a mapping of strings", key));
          continue;
        }
        for (const auto& item : v) {
          std::string value;
          if (!item.second.IsScalar() && !item.second.IsNull()) {
            Add(LineOf(item.second), absl::StrFormat("field %s: value of %s must be a string", key,
                                                     item.first.Scalar()));
            continue;
          }
          dst->emplace_back(item.first.Scalar(), item.second.IsNull() ? "" : item.second.Scalar());
        }
        std::sort(dst->begin(), dst->end());
      }
    }
    std::string name = rule->alert.empty() ? rule->record : rule->alert;
    if (has_record && has_alert) name = rule->alert;
    auto err = [&](int line, std::string_view msg) {
      Add(line, absl::StrFormat("group \"%s\", rule %d, \"%s\": %s", group, index, name, msg));
    };
    int name_line = has_record ? record_line : alert_line;
    if (has_record && has_alert) {
      err(record_line, "only one of 'record' and 'alert' must be set");
    } else if (rule->record.empty() && rule->alert.empty()) {
      err(rule->line, "one of 'record' or 'alert' must be set");
    }
    if (rule->expr.empty()) {
      err(rule->line, "field 'expr' must be set in rule");
    } else {
      absl::StatusOr<promql::ExprPtr> e = promql::ParseExpr(rule->expr);
      if (!e.ok()) {
        err(expr_line, absl::StrCat("could not parse expression: ", e.status().message()));
      }
    }
    if (!rule->record.empty() && !has_alert) {
      if (!rule->annotations.empty()) {
        err(name_line, "invalid field 'annotations' in recording rule");
      }
      if (has_for) err(name_line, "invalid field 'for' in recording rule");
      if (has_keep) err(name_line, "invalid field 'keep_firing_for' in recording rule");
      if (!IsValidMetricName(rule->record)) {
        err(name_line, absl::StrCat("invalid recording rule name: ", rule->record));
      }
    }
    for (const auto& [k, v] : rule->labels) {
      if (!IsValidLabelName(k) || k == kMetricNameLabel) {
        err(rule->line, absl::StrCat("invalid label name: ", k));
      }
      if (!IsValidUtf8(v)) err(rule->line, absl::StrCat("invalid label value: ", v));
    }
    for (const auto& [k, v] : rule->annotations) {
      if (!IsValidLabelName(k)) err(rule->line, absl::StrCat("invalid annotation name: ", k));
    }
    // Templates are expanded only for alerts; parse them now so a typo fails the load.
    if (!rule->alert.empty()) {
      auto check = [&](std::string_view kind, const std::string& key, const std::string& text) {
        absl::StatusOr<Template> t = Template::Parse(absl::StrCat("__alert_", rule->alert), text);
        if (!t.ok()) {
          err(rule->line, absl::StrFormat("%s \"%s\": %s", kind, key, StdSv(t.status().message())));
        }
      };
      for (const auto& [k, v] : rule->labels) check("label", k, v);
      for (const auto& [k, v] : rule->annotations) check("annotation", k, v);
    }
  }

  std::string filename_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<std::vector<RuleGroupSpec>> ParseRuleFile(std::string_view yaml,
                                                         std::string_view filename) {
  RuleFileParser parser(filename);
  std::vector<RuleGroupSpec> groups;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    parser.File(root, &groups);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d: %s", filename, e.mark.line + 1, e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", filename, e.what()));
  }
  if (!parser.errors().empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(parser.errors(), "\n"));
  }
  return groups;
}

absl::StatusOr<std::vector<RuleGroupSpec>> LoadRuleFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read rule file"));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": error reading rule file"));
  return ParseRuleFile(ss.str(), path);
}

absl::StatusOr<std::vector<std::string>> ExpandRuleFileGlobs(
    const std::vector<std::string>& patterns, const std::string& base_dir) {
  std::set<std::string> files;
  for (const std::string& pattern : patterns) {
    std::filesystem::path p(pattern);
    std::string full = p.is_relative() && !base_dir.empty()
                           ? (std::filesystem::path(base_dir) / p).string()
                           : pattern;
    glob_t g{};
    int rc = glob(full.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) files.insert(g.gl_pathv[i]);
    }
    globfree(&g);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      return absl::InvalidArgumentError(
          absl::StrFormat("invalid rule file path \"%s\": cannot expand the pattern", pattern));
    }
  }
  return std::vector<std::string>(files.begin(), files.end());
}

}  // namespace cairn::rules
