// `cairnctl query`: runs an instant or range PromQL query against a server that speaks
// Prometheus' HTTP API (Cairn or Prometheus itself) and prints the answer as promtool
// does, or the raw JSON.
//
//   cairnctl query [--url=http://127.0.0.1:9090] [--format=table|json] [--time=T] EXPR
//   cairnctl query range --start=T --end=T --step=S [--url=..] [--format=..] EXPR
//
// The pieces are separate so that tests can check each without a server: QueryUrl()
// and QueryForm() build the request, PostQuery() does the HTTP exchange (libcurl),
// ParseQueryResponse() turns the body into promtool's rendering or the API's error.
//
// Exit codes of QueryCommand(): 0 success, 1 the API answered with an error (its
// errorType and error are printed), 2 usage errors, connection failures and answers
// that are not a Prometheus API response.
//
// Thread-safety: free functions without shared state.
#ifndef CAIRN_TOOLS_QUERY_COMMAND_H_
#define CAIRN_TOOLS_QUERY_COMMAND_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cairn::tools {

struct QueryRequest {
  std::string url = "http://127.0.0.1:9090";  // server base URL, no path
  std::string expr;
  bool range = false;
  // Passed to the server unchanged: RFC 3339 or unix seconds (the API accepts both),
  // step as a duration ("15s") or float seconds. An empty time means "now".
  std::string time;
  std::string start;
  std::string end;
  std::string step;
  absl::Duration timeout = absl::Minutes(2);
};

// <url>/api/v1/query or <url>/api/v1/query_range.
std::string QueryUrl(const QueryRequest& req);
// The application/x-www-form-urlencoded body with the query's parameters.
std::string QueryForm(const QueryRequest& req);

struct HttpResponse {
  long status_code = 0;
  std::string body;
};

// POSTs the form to the query endpoint, falling back to GET when the server answers
// 405 (as Prometheus' Go client does). Errors: kUnavailable naming the URL and
// libcurl's reason when the server cannot be reached or the exchange fails.
absl::StatusOr<HttpResponse> PostQuery(const QueryRequest& req);

struct QueryAnswer {
  bool success = false;
  // On success: promtool's rendering of the result, one line per vector sample
  //   up{instance="a:9090", job="x"} => 1 @[1700000000.123]
  // and for a matrix one "metric =>" line per series followed by "value @[ts]" lines;
  // "scalar: v @[ts]" and the bare value for strings. Ends with a newline unless empty.
  std::string table;
  // On failure: the API's errorType and error.
  std::string error_type;
  std::string error;
  std::vector<std::string> warnings;
};

// Parses an API response body. Errors: kInvalidArgument when the body is not a
// Prometheus API response (not JSON, no status, malformed result); the message names
// the reason and quotes the start of the body.
absl::StatusOr<QueryAnswer> ParseQueryResponse(std::string_view body);

// Renders label pairs as Prometheus' model.Metric.String(): name{a="1", b="2"} with
// the pairs sorted as rendered strings and values quoted as Go's %q.
std::string FormatMetric(const std::vector<std::pair<std::string, std::string>>& labels);

// The subcommand: argv[first..] are its arguments (after "query"). Writes results to
// stdout and messages to stderr; returns the process exit code.
int QueryCommand(int argc, char** argv, int first);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_QUERY_COMMAND_H_
