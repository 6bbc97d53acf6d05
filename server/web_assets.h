// The web UI's files, compiled into the binary by server/web/embed_assets.cmake from
// server/web/* and uPlot's dist files (docs/ui.md). Read-only data: safe from any
// thread. Only server/web_ui.cc should use it.
#ifndef CAIRN_SERVER_WEB_ASSETS_H_
#define CAIRN_SERVER_WEB_ASSETS_H_

#include <cstddef>

namespace cairn::server::internal {

struct WebAsset {
  const char* path;  // URL path below /static/, e.g. "app.js", "vendor/uPlot.iife.min.js"
  const unsigned char* data;
  size_t size;
};

extern const WebAsset kWebAssets[];
extern const size_t kWebAssetCount;
// False when the build could not find uPlot (tools/setup fetches it from npm): the
// UI is still served and says the chart library is missing.
extern const bool kWebChartLibraryEmbedded;

}  // namespace cairn::server::internal

#endif  // CAIRN_SERVER_WEB_ASSETS_H_
