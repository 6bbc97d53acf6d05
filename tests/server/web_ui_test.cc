// WebUi: page routing, content types, caching headers and refusal of anything
// outside the embedded asset set. Expected values come from the HTTP specs (RFC
// 9110 conditional requests) and Prometheus' URL layout, not from WebUi itself.
#include "server/web_ui.h"

#include <string>

#include "gtest/gtest.h"
#include "server/http_server.h"

namespace cairn::server {
namespace {

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class WebUiTest : public ::testing::Test {
 protected:
  WebUiTest() : server_(HttpServer::Options{}) { ui_.Register(&server_); }

  // Routes the request as a connection would, so registration is tested too.
  HttpResponse Get(const std::string& path, const std::string& if_none_match = "",
                   const std::string& method = "GET") {
    HttpRequest req;
    req.method = method;
    req.path = path;
    if (!if_none_match.empty()) req.headers.emplace_back("if-none-match", if_none_match);
    HttpResponse resp;
    std::string handler;
    server_.Dispatch(req, &resp, &handler);
    return resp;
  }

  WebUi ui_;
  HttpServer server_;
};

TEST_F(WebUiTest, RootRedirectsToGraph) {
  HttpResponse r = Get("/");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(HeaderOf(r, "Location"), "/graph");
}

TEST_F(WebUiTest, GraphReturnsTheAppPage) {
  HttpResponse r = Get("/graph");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(r.body.find("<script type=\"module\" src=\"/static/app.js\">"), std::string::npos);
  EXPECT_NE(r.body.find("/static/vendor/uPlot.iife.min.js"), std::string::npos);
}

TEST_F(WebUiTest, EveryPrometheusPagePathReturnsTheSamePage) {
  const std::string app = Get("/graph").body;
  for (const char* p :
       {"/targets", "/alerts", "/rules", "/status", "/flags", "/tsdb-status", "/config"}) {
    HttpResponse r = Get(p);
    EXPECT_EQ(r.status, 200) << p;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << p;
    EXPECT_EQ(r.body, app) << p;
  }
}

TEST_F(WebUiTest, ContentTypesOfAssets) {
  struct Case {
    const char* path;
    const char* type;
    const char* snippet;
  };
  for (const Case& c : {
           Case{"/static/app.js", "text/javascript; charset=utf-8", "import"},
           Case{"/static/graph.js", "text/javascript; charset=utf-8", "query_range"},
           Case{"/static/util.js", "text/javascript; charset=utf-8", "export"},
           Case{"/static/pages.js", "text/javascript; charset=utf-8", "/api/v1/targets"},
           Case{"/static/cairn.css", "text/css; charset=utf-8", "{"},
           Case{"/static/favicon.svg", "image/svg+xml", "<svg"},
       }) {
    HttpResponse r = Get(c.path);
    EXPECT_EQ(r.status, 200) << c.path;
    EXPECT_EQ(r.content_type, c.type) << c.path;
    EXPECT_NE(r.body.find(c.snippet), std::string::npos) << c.path;
    EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff") << c.path;
  }
}

TEST_F(WebUiTest, ContentTypeByExtension) {
  EXPECT_EQ(WebUi::ContentType("a/b.html"), "text/html; charset=utf-8");
  EXPECT_EQ(WebUi::ContentType("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(WebUi::ContentType("x.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(WebUi::ContentType("x.png"), "image/png");
  EXPECT_EQ(WebUi::ContentType("x.js.map.bin"), "application/octet-stream");
  EXPECT_EQ(WebUi::ContentType("noext"), "application/octet-stream");
}

TEST_F(WebUiTest, ChartLibraryServedWhenBuiltWithIt) {
  HttpResponse js = Get("/static/vendor/uPlot.iife.min.js");
  HttpResponse css = Get("/static/vendor/uPlot.min.css");
  if (WebUi::HasChartLibrary()) {
    EXPECT_EQ(js.status, 200);
    EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
    EXPECT_NE(js.body.find("uPlot"), std::string::npos);
    EXPECT_EQ(css.status, 200);
    EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  } else {
    EXPECT_EQ(js.status, 404);
    EXPECT_EQ(css.status, 404);
  }
}

TEST_F(WebUiTest, UnknownPathsAre404) {
  for (const char* p : {"/static/", "/static/nope.js", "/static/APP.JS", "/static/app.js/",
                        "/static/app.js.gz", "/graph/", "/graphs", "/index.html", "/static"}) {
    EXPECT_EQ(Get(p).status, 404) << p;
  }
}

TEST_F(WebUiTest, PathTraversalIs404) {
  // The request path arrives percent-decoded, so "%2e%2e%2f" is "../" here.
  for (const char* p :
       {"/static/../web_ui.cc", "/static/../../server/web_ui.cc", "/static/..", "/static/./app.js",
        "/static//app.js", "/static/vendor/../app.js", "/static//etc/passwd",
        "/static/../../../../../../etc/passwd", "/static/..\\app.js", "/static/web/index.html",
        "/static/server/web/app.js", "/static/embed_assets.cmake", "/../etc/passwd"}) {
    HttpResponse r = Get(p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body, "404 page not found\n") << p;
  }
}

TEST_F(WebUiTest, EtagRevalidation) {
  HttpResponse first = Get("/static/app.js");
  ASSERT_EQ(first.status, 200);
  const std::string etag = HeaderOf(first, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.substr(0, 3), "W/\"");
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(HeaderOf(first, "Cache-Control"), "no-cache");

  HttpResponse again = Get("/static/app.js", etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(HeaderOf(again, "ETag"), etag);
  // Weak comparison ignores W/; lists and * match; another tag does not.
  EXPECT_EQ(Get("/static/app.js", etag.substr(2)).status, 304);
  EXPECT_EQ(Get("/static/app.js", "\"other\", " + etag).status, 304);
  EXPECT_EQ(Get("/static/app.js", "*").status, 304);
  EXPECT_EQ(Get("/static/app.js", "\"other\"").status, 200);

  // Different files have different tags, so one's tag does not revalidate another.
  const std::string css_etag = HeaderOf(Get("/static/cairn.css"), "ETag");
  EXPECT_NE(css_etag, etag);
  EXPECT_EQ(Get("/static/cairn.css", etag).status, 200);
}

TEST_F(WebUiTest, MethodsOtherThanGetAndHeadAreRefused) {
  HttpResponse post = Get("/graph", "", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(HeaderOf(post, "Allow"), "GET, HEAD");
  HttpResponse head = Get("/static/app.js", "", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.content_type, "text/javascript; charset=utf-8");
}

}  // namespace
}  // namespace cairn::server
