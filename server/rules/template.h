// Template: the subset of Go's text/template that Prometheus alerting rules use in
// labels and annotations, with Prometheus' template functions and output formats.
//
//   absl::StatusOr<Template> t = Template::Parse("__alert_HighLoad",
//       "{{ $labels.instance }} load is {{ $value | humanize }}");
//   TemplateData data{&labels, &external_labels, /*value=*/1234.5, ""};
//   absl::StatusOr<std::string> out = t->Execute(data);  // "host:9100 load is 1.234k"
//
// Supported: text with {{ }} actions, trim markers ({{- -}}), comments ({{/* */}}),
// the variables Prometheus predefines ($labels, $value, $externalLabels,
// $externalURL, $) and the same data through the dot (.Labels.x, .Value,
// .ExternalLabels.x, .ExternalURL), string/number literals, parentheses, pipes, and
// the functions humanize, humanize1024, humanizeDuration, humanizePercentage,
// humanizeTimestamp, printf, print, toUpper, toLower, title, reReplaceAll, match,
// safeHtml, index, len, externalURL. Control structures (if, range, with, define,
// template, block), variable declarations and the query functions (query, first,
// value, label, ...) are refused by Parse with an error naming the construct, so a
// rule file using them fails at load time, not when the alert fires.
//
// Outputs follow Go: $value prints as fmt's %v (1e+06, 0.5), a missing label as ""
// (Prometheus sets missingkey=zero), a map as map[k:v ...]; humanize* match
// Prometheus 2.42 exactly.
//
// A Template is an immutable parsed tree; copies share it. Execute() is const and
// thread-safe.
#ifndef CAIRN_SERVER_RULES_TEMPLATE_H_
#define CAIRN_SERVER_RULES_TEMPLATE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tsdb/model/labels.h"

namespace cairn::rules {

// What a rule's templates see (Prometheus' template.AlertTemplateData). Borrowed.
struct TemplateData {
  const Labels* labels = nullptr;           // the alert's series labels
  const Labels* external_labels = nullptr;  // the config's global external_labels
  double value = 0;                         // the sample value
  std::string_view external_url;            // --web.external-url
};

namespace template_internal {
struct Pipeline;
struct Node;
}  // namespace template_internal

class Template {
 public:
  // Parses `text`. `name` appears in errors as Go names templates:
  //   template: __alert_HighLoad:1: function "humanise" not defined
  // kInvalidArgument on syntax errors and unsupported constructs.
  static absl::StatusOr<Template> Parse(std::string_view name, std::string_view text);

  // Runs the template. kInvalidArgument on run-time errors (e.g. humanize of a
  // non-number string), with Go's "error calling humanize: ..." wording.
  absl::StatusOr<std::string> Execute(const TemplateData& data) const;

  // True when the text has no action: Execute() returns it unchanged.
  bool is_plain_text() const;

 private:
  std::string name_;
  std::shared_ptr<const std::vector<template_internal::Node>> nodes_;
};

// Parse + Execute as Prometheus expands alert labels and annotations: a failure
// gives "<error expanding template: ...>" in place of the text.
std::string ExpandTemplate(std::string_view name, std::string_view text, const TemplateData& data);

// Prometheus' template functions, exposed for tests and other users.
std::string Humanize(double v);
std::string Humanize1024(double v);
std::string HumanizeDuration(double seconds);
std::string HumanizePercentage(double ratio);
std::string HumanizeTimestamp(double unix_seconds);
// Go's fmt %v of a float64 (strconv 'g' shortest, exponent from 1e+06 / below 1e-04).
std::string FormatGoFloat(double v);

}  // namespace cairn::rules

#endif  // CAIRN_SERVER_RULES_TEMPLATE_H_
