// Fuzz target: the rule file parser (YAML, validation, PromQL and template parsing)
// and template execution. Any input must load or fail with a status; a template that
// parses must execute (or fail with a status) without crashing or unbounded output.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/rules/rule_file.h"
#include "server/rules/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)cairn::rules::ParseRuleFile(in, "fuzz.yml");
  auto t = cairn::rules::Template::Parse("fuzz", in);
  if (t.ok()) {
    cairn::Labels labels{{"__name__", "up"}, {"instance", "host:9100"}};
    cairn::rules::TemplateData d;
    d.labels = &labels;
    d.external_labels = &labels;
    d.value = 1234.5;
    auto out = t->Execute(d);
    // Output is bounded by the input: each action prints at most ~1e6 bytes
    // (width cap) — anything beyond means an unbounded expansion.
    if (out.ok() && out->size() > size * 1000001 + 4096) std::abort();
  }
  return 0;
}
