// Relabelling: rewrites a label set by a list of relabel_configs, with the exact
// semantics of Prometheus' model/relabel (v2.42). Used for target relabelling
// (relabel_configs) and for scraped samples (metric_relabel_configs).
//
// A RelabelConfig owns its compiled regex (shared, immutable), so configs are cheap
// to copy and safe to use from many threads at once.
#ifndef CAIRN_SERVER_CONFIG_RELABEL_H_
#define CAIRN_SERVER_CONFIG_RELABEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tsdb/model/labels.h"

namespace re2 {
class RE2;
}

namespace cairn::config {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// Parses the YAML spelling ("replace", "labelmap", ...; case-insensitive as in
// Prometheus). kInvalidArgument for an unknown action.
absl::StatusOr<RelabelAction> ParseRelabelAction(std::string_view name);
std::string_view RelabelActionName(RelabelAction action);

struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  // The regex as written; `regex` is it compiled fully anchored: ^(?:expr)$.
  std::string regex_text = "(.*)";
  std::shared_ptr<const re2::RE2> regex;
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;

  // Compiles regex_text into regex. kInvalidArgument on a bad expression.
  absl::Status CompileRegex();
  // Checks the per-action requirements Prometheus enforces at load time (target
  // label present for replace/hashmod/..., modulus for hashmod, ...).
  absl::Status Validate() const;
};

// A config with defaults and the default regex compiled.
RelabelConfig DefaultRelabelConfig();

// Applies `configs` in order. Returns nullopt when a keep/drop-style action drops the
// set; otherwise the rewritten labels. Configs without a compiled regex use the
// default "(.*)".
std::optional<Labels> Process(const Labels& labels, const std::vector<RelabelConfig>& configs);

// True for a valid Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);
// True for a target_label / labelmap replacement Prometheus accepts: label-name
// characters and $1 / ${name} group references.
bool IsValidLabelTemplate(std::string_view text);

}  // namespace cairn::config

#endif  // CAIRN_SERVER_CONFIG_RELABEL_H_
