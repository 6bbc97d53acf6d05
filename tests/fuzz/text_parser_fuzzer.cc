// Fuzz target: the scrape parser (text format 0.0.4 and OpenMetrics) on arbitrary
// pages. The first byte picks the format. It must never read out of bounds or loop,
// and after a failure it must stay failed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/scrape/text_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto format = (data[0] & 1) != 0 ? cairn::scrape::ExpositionFormat::kOpenMetrics
                                         : cairn::scrape::ExpositionFormat::kPrometheusText;
  std::string_view page(reinterpret_cast<const char*>(data) + 1, size - 1);
  cairn::scrape::TextParser p(page, format);
  size_t entries = 0;
  while (p.Next()) {
    ++entries;
    // Every entry is a line of the page, so there cannot be more entries than bytes.
    if (entries > page.size() + 1) std::abort();
    for (const auto& [name, value] : p.labels()) {
      (void)name.size();
      (void)value.size();
    }
    (void)p.value();
    (void)p.text();
  }
  const bool failed = !p.status().ok();
  if (failed && p.Next()) std::abort();  // no entry after an error
  return 0;
}
