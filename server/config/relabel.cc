#include "server/config/relabel.h"

#include <openssl/evp.h>

#include <array>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::config {
namespace {

struct ActionName {
  RelabelAction action;
  std::string_view name;
};
constexpr std::array<ActionName, 11> kActionNames = {{
    {RelabelAction::kReplace, "replace"},
    {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},
    {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"},
    {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},
    {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"},
    {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
}};

const std::shared_ptr<const re2::RE2>& DefaultRegex() {
  static const auto* re =
      new std::shared_ptr<const re2::RE2>(std::make_shared<const re2::RE2>("^(?:(.*))$"));
  return *re;
}

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$; a name is the longest run of
// [A-Za-z0-9_], so "$1x" names the (missing) group "1x" and expands to nothing. A
// malformed reference keeps the '$' as text.
void Expand(const re2::RE2& re, std::string_view tmpl, const re2::StringPiece* groups, int ngroups,
            std::string* out) {
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) {
      out->append(tmpl);
      return;
    }
    out->append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out->push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view name;
    bool ok = false;
    if (!tmpl.empty() && tmpl[0] == '{') {
      size_t close = tmpl.find('}');
      if (close != std::string_view::npos && close > 1) {
        name = tmpl.substr(1, close - 1);
        ok = true;
        for (char c : name) ok = ok && IsNameChar(c);
        if (ok) tmpl.remove_prefix(close + 1);
      }
    } else {
      size_t n = 0;
      while (n < tmpl.size() && IsNameChar(tmpl[n])) ++n;
      if (n > 0) {
        name = tmpl.substr(0, n);
        tmpl.remove_prefix(n);
        ok = true;
      }
    }
    if (!ok) {
      out->push_back('$');
      continue;
    }
    int index = -1;
    bool numeric = true;
    for (char c : name) numeric = numeric && std::isdigit(static_cast<unsigned char>(c));
    // As Go's regexp: a number with a leading zero ("$01") names a group, not an index.
    if (numeric && name.size() > 1 && name[0] == '0') numeric = false;
    if (numeric) {
      if (name.size() < 9) index = std::stoi(std::string(name));
    } else {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end()) index = it->second;
    }
    if (index >= 0 && index < ngroups && groups[index].data() != nullptr) {
      out->append(groups[index].data(), groups[index].size());
    }
  }
}

// Matches `value` fully; fills groups[0..n) on success.
bool Match(const re2::RE2& re, std::string_view value, std::vector<re2::StringPiece>* groups) {
  groups->assign(re.NumberOfCapturingGroups() + 1, re2::StringPiece());
  return re.Match(re2::StringPiece(value.data(), value.size()), 0, value.size(),
                  re2::RE2::UNANCHORED, groups->data(), static_cast<int>(groups->size()));
}

uint64_t Md5Low64(std::string_view value) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(value.data(), value.size(), digest, &len, EVP_md5(), nullptr) != 1 || len < 16) {
    return 0;
  }
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | digest[i];
  return v;
}

}  // namespace

absl::StatusOr<RelabelAction> ParseRelabelAction(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(Sv(name));
  for (const ActionName& a : kActionNames) {
    if (a.name == lower) return a.action;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown relabel action \"", Sv(name), "\""));
}

std::string_view RelabelActionName(RelabelAction action) {
  for (const ActionName& a : kActionNames) {
    if (a.action == action) return a.name;
  }
  return "unknown";
}

absl::Status RelabelConfig::CompileRegex() {
  auto re =
      std::make_shared<const re2::RE2>(absl::StrCat("^(?:", regex_text, ")$"), re2::RE2::Quiet);
  if (!re->ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid relabel regex \"", regex_text, "\": ", re->error()));
  }
  regex = std::move(re);
  return absl::OkStatus();
}

absl::Status RelabelConfig::Validate() const {
  std::string_view act = RelabelActionName(action);
  if (action == RelabelAction::kHashMod && modulus == 0) {
    return absl::InvalidArgumentError(
        "relabel configuration for hashmod requires non-zero modulus");
  }
  bool needs_target = action == RelabelAction::kReplace || action == RelabelAction::kHashMod ||
                      action == RelabelAction::kLowercase || action == RelabelAction::kUppercase ||
                      action == RelabelAction::kKeepEqual || action == RelabelAction::kDropEqual;
  if (needs_target && target_label.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("relabel configuration for ", Sv(act),
                                                   " action requires 'target_label' value"));
  }
  // replace may build its target from capture groups ("$1_name"), so it is checked
  // against Prometheus' template pattern; the other actions need a literal name.
  bool template_target = action == RelabelAction::kReplace;
  bool target_ok =
      template_target ? IsValidLabelTemplate(target_label) : IsValidLabelName(target_label);
  if (needs_target && !target_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", target_label, "\" is invalid 'target_label' for ", Sv(act), " action"));
  }
  bool literal_only = action == RelabelAction::kLowercase || action == RelabelAction::kUppercase ||
                      action == RelabelAction::kKeepEqual || action == RelabelAction::kDropEqual;
  if (literal_only && replacement != "$1") {
    return absl::InvalidArgumentError(
        absl::StrCat("'replacement' can not be set for ", Sv(act), " action"));
  }
  if (action == RelabelAction::kLabelMap && !IsValidLabelTemplate(replacement)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", replacement, "\" is invalid 'replacement' for labelmap action"));
  }
  if ((action == RelabelAction::kLabelDrop || action == RelabelAction::kLabelKeep) &&
      (!source_labels.empty() || !target_label.empty() || modulus != 0 || separator != ";" ||
       replacement != "$1")) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(act), " action requires only 'regex', and no other fields"));
  }
  if ((action == RelabelAction::kKeepEqual || action == RelabelAction::kDropEqual) &&
      (regex_text != "(.*)" || modulus != 0 || separator != ";" || replacement != "$1")) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(act), " action requires only 'source_labels' and `target_label`, and no other fields"));
  }
  return absl::OkStatus();
}

RelabelConfig DefaultRelabelConfig() {
  RelabelConfig c;
  c.regex = DefaultRegex();
  return c;
}

bool IsValidLabelTemplate(std::string_view text) {
  // Prometheus' relabelTarget: ^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$
  static const auto* re = new re2::RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(re2::StringPiece(text.data(), text.size()), *re);
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::optional<Labels> Process(const Labels& labels, const std::vector<RelabelConfig>& configs) {
  LabelsBuilder b(labels);
  std::vector<re2::StringPiece> groups;
  std::string val;
  std::string expanded;
  for (const RelabelConfig& cfg : configs) {
    const re2::RE2& re = cfg.regex ? *cfg.regex : *DefaultRegex();
    val.clear();
    for (size_t i = 0; i < cfg.source_labels.size(); ++i) {
      if (i > 0) val.append(cfg.separator);
      val.append(b.Get(cfg.source_labels[i]));
    }
    switch (cfg.action) {
      case RelabelAction::kDrop:
        if (Match(re, val, &groups)) return std::nullopt;
        break;
      case RelabelAction::kKeep:
        if (!Match(re, val, &groups)) return std::nullopt;
        break;
      case RelabelAction::kDropEqual:
        if (b.Get(cfg.target_label) == val) return std::nullopt;
        break;
      case RelabelAction::kKeepEqual:
        if (b.Get(cfg.target_label) != val) return std::nullopt;
        break;
      case RelabelAction::kReplace: {
        if (!Match(re, val, &groups)) break;
        std::string target;
        Expand(re, cfg.target_label, groups.data(), static_cast<int>(groups.size()), &target);
        if (!IsValidLabelName(target)) break;
        expanded.clear();
        Expand(re, cfg.replacement, groups.data(), static_cast<int>(groups.size()), &expanded);
        if (expanded.empty()) {
          b.Del(target);
        } else {
          b.Set(target, expanded);
        }
        break;
      }
      case RelabelAction::kLowercase:
        b.Set(cfg.target_label, absl::AsciiStrToLower(val));
        break;
      case RelabelAction::kUppercase:
        b.Set(cfg.target_label, absl::AsciiStrToUpper(val));
        break;
      case RelabelAction::kHashMod:
        if (cfg.modulus != 0) {
          b.Set(cfg.target_label, std::to_string(Md5Low64(val) % cfg.modulus));
        }
        break;
      case RelabelAction::kLabelMap: {
        Labels current = b.Build();
        for (const Label& l : current) {
          if (!Match(re, l.name, &groups)) continue;
          expanded.clear();
          Expand(re, cfg.replacement, groups.data(), static_cast<int>(groups.size()), &expanded);
          b.Set(expanded, l.value);
        }
        break;
      }
      case RelabelAction::kLabelDrop:
      case RelabelAction::kLabelKeep: {
        Labels current = b.Build();
        bool drop_on_match = cfg.action == RelabelAction::kLabelDrop;
        for (const Label& l : current) {
          if (Match(re, l.name, &groups) == drop_on_match) b.Del(l.name);
        }
        break;
      }
    }
  }
  return b.Build();
}

}  // namespace cairn::config
