// Runs PromQL test scripts in the upstream Prometheus format (promql/test.go of
// v2.42; see ../shared/promql-testdata/README.md) against Engine over an in-memory
// store:
//   - the upstream files, read in place from ../shared/promql-testdata (or
//     $CAIRN_PROMQL_TESTDATA); skipped with a message when that folder is absent;
//   - Cairn's own scripts under tests/tsdb/promql/testdata/, for what upstream
//     leaves out.
//
// Commands: load, clear, eval / eval_fail / eval_ordered (instant at). Every
// successful instant eval is re-run as a range query from t-1m to t+1m at 1m steps,
// whose point at t must give the same answer, as upstream does.
//
// A case is named file:line. Failing cases not listed in kKnownFailures fail the
// test; listed cases that pass are reported so the list can shrink. Native-histogram
// loads ({{...}} samples) are skipped with their reason.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/tsdb/promql/memory_storage.h"
#include "tsdb/promql/engine.h"
#include "tsdb/promql/parser.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql {
namespace {

// Upstream cases Cairn does not pass yet, as "file:line" with the reason.
const std::map<std::string, std::string>& KnownFailures() {
  static const auto* m = new std::map<std::string, std::string>{};
  return *m;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool ParseNumber(std::string_view tok, double* out) {
  std::string s(tok);
  std::string l;
  for (char c : s) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  bool neg = false;
  std::string_view body = l;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    *out = std::bit_cast<double>(kNormalNaNBits);
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Splits "metric{a="b"} 1 2 3" into the series text and the rest.
bool SplitSeries(const std::string& line, std::string* series, std::string* rest) {
  size_t brace = line.find('{');
  size_t space = line.find_first_of(" \t");
  size_t end;
  if (brace != std::string::npos && (space == std::string::npos || brace < space)) {
    bool in_quote = false;
    char q = 0;
    end = std::string::npos;
    for (size_t i = brace; i < line.size(); ++i) {
      char c = line[i];
      if (in_quote) {
        if (c == '\\') {
          ++i;
        } else if (c == q) {
          in_quote = false;
        }
      } else if (c == '"' || c == '\'' || c == '`') {
        in_quote = true;
        q = c;
      } else if (c == '}') {
        end = i + 1;
        break;
      }
    }
    if (end == std::string::npos) return false;
  } else {
    end = space == std::string::npos ? line.size() : space;
  }
  *series = line.substr(0, end);
  *rest = Trim(std::string_view(line).substr(end));
  return true;
}

absl::StatusOr<Labels> ParseSeriesLabels(const std::string& text) {
  absl::StatusOr<std::vector<Matcher>> ms = ParseMetricSelector(text);
  if (!ms.ok()) return ms.status();
  LabelsBuilder b;
  for (const Matcher& m : *ms) b.Set(m.name(), m.value());
  return b.Build();
}

// One value token of a load line, expanded: nullopt entries are missing samples.
absl::Status ExpandValues(std::string_view tok, std::vector<std::optional<double>>* out) {
  if (tok == "_") {
    out->push_back(std::nullopt);
    return absl::OkStatus();
  }
  if (tok == "stale") {
    out->push_back(StaleNaN());
    return absl::OkStatus();
  }
  size_t x = tok.rfind('x');
  if (x != std::string_view::npos && x + 1 < tok.size() && x > 0 &&
      tok.substr(x + 1).find_first_not_of("0123456789") == std::string_view::npos) {
    int times = std::atoi(std::string(tok.substr(x + 1)).c_str());
    std::string_view prefix = tok.substr(0, x);
    if (prefix == "_") {
      for (int i = 0; i < times; ++i) out->push_back(std::nullopt);
      return absl::OkStatus();
    }
    if (prefix == "stale") {
      for (int i = 0; i <= times; ++i) out->push_back(StaleNaN());
      return absl::OkStatus();
    }
    size_t op = std::string_view::npos;
    for (size_t k = 1; k < prefix.size(); ++k) {
      if ((prefix[k] == '+' || prefix[k] == '-') && prefix[k - 1] != 'e' && prefix[k - 1] != 'E') {
        op = k;
        break;
      }
    }
    double base, delta = 0;
    if (op == std::string_view::npos) {
      if (!ParseNumber(prefix, &base)) return absl::InvalidArgumentError(std::string(tok));
    } else {
      if (!ParseNumber(prefix.substr(0, op), &base) || !ParseNumber(prefix.substr(op), &delta)) {
        return absl::InvalidArgumentError(std::string(tok));
      }
    }
    double k = base;
    for (int i = 0; i <= times; ++i) {
      out->push_back(k);
      k += delta;
    }
    return absl::OkStatus();
  }
  double v;
  if (!ParseNumber(tok, &v)) return absl::InvalidArgumentError(std::string(tok));
  out->push_back(v);
  return absl::OkStatus();
}

bool AlmostEqual(double a, double b) {
  constexpr double kEpsilon = 1e-6;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double diff = std::abs(a - b);
  if (a == 0 || b == 0 || diff < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / (std::abs(a) + std::abs(b)) < kEpsilon;
}

struct Expected {
  bool scalar = false;
  double scalar_value = 0;
  std::vector<std::pair<Labels, double>> series;  // in listed order
};

// Compares an instant result with the expectation; "" when it matches.
std::string Compare(const Value& v, const Expected& exp, bool ordered) {
  if (v.type == ValueType::kScalar) {
    if (!exp.scalar) return absl::StrCat("got scalar ", FormatFloat(v.scalar.v), ", want vector");
    if (!AlmostEqual(exp.scalar_value, v.scalar.v)) {
      return absl::StrCat("expected scalar ", FormatFloat(exp.scalar_value), " but got ",
                          FormatFloat(v.scalar.v));
    }
    return "";
  }
  if (v.type != ValueType::kVector) {
    return absl::StrCat("unexpected result type ", Sv(ValueTypeName(v.type)));
  }
  if (exp.scalar) return "got vector, want scalar";
  if (v.vector.size() != exp.series.size()) {
    return absl::StrCat("expected ", exp.series.size(), " samples, got ", v.vector.size(), ":\n",
                        v.DebugString());
  }
  std::map<std::string, std::pair<size_t, double>> want;
  for (size_t i = 0; i < exp.series.size(); ++i) {
    want[exp.series[i].first.encoded()] = {i, exp.series[i].second};
  }
  for (size_t pos = 0; pos < v.vector.size(); ++pos) {
    const VectorSample& s = v.vector[pos];
    auto it = want.find(s.labels.encoded());
    if (it == want.end()) {
      return absl::StrCat("unexpected metric ", s.labels.ToString(), " in result:\n",
                          v.DebugString());
    }
    if (ordered && it->second.first != pos) {
      return absl::StrCat("expected metric ", s.labels.ToString(), " at position ",
                          it->second.first + 1, " but was at ", pos + 1);
    }
    if (!AlmostEqual(it->second.second, s.v)) {
      return absl::StrCat("expected ", FormatFloat(it->second.second), " for ", s.labels.ToString(),
                          " but got ", FormatFloat(s.v));
    }
  }
  return "";
}

struct FileReport {
  int passed = 0;
  int failed = 0;
  int known = 0;
  std::vector<std::string> skipped;     // "file:line: reason"
  std::vector<std::string> unexpected;  // failures not in the known list
  std::vector<std::string> fixed;       // known failures that passed
};

class ScriptRunner {
 public:
  explicit ScriptRunner(std::string name) : name_(std::move(name)) {
    EngineOptions o;
    o.default_subquery_step = absl::Minutes(1);
    engine_ = std::make_unique<Engine>(o);
  }

  FileReport Run(const std::string& content) {
    std::vector<std::string> lines = absl::StrSplit(content, '\n');
    size_t i = 0;
    bool native_histograms = false;
    auto indented = [&](size_t k) {
      return k < lines.size() && !lines[k].empty() && (lines[k][0] == ' ' || lines[k][0] == '\t') &&
             !Trim(lines[k]).empty();
    };
    while (i < lines.size()) {
      std::string line = Trim(lines[i]);
      const size_t lineno = i + 1;
      ++i;
      if (line.empty() || line[0] == '#') continue;
      std::string id = absl::StrCat(name_, ":", lineno);
      if (line == "clear") {
        storage_.Clear();
        native_histograms = false;
        continue;
      }
      if (line.rfind("load", 0) == 0) {
        std::string dur = Trim(std::string_view(line).substr(4));
        absl::StatusOr<int64_t> step = ParseDuration(dur);
        if (!step.ok()) {
          Fail(id, absl::StrCat("bad load interval: ", step.status().message()));
          while (indented(i)) ++i;
          continue;
        }
        while (indented(i)) {
          std::string l = Trim(lines[i]);
          std::string id2 = absl::StrCat(name_, ":", i + 1);
          ++i;
          if (l.find("{{") != std::string::npos) {
            native_histograms = true;
            report_.skipped.push_back(absl::StrCat(id2, ": native histogram samples"));
            continue;
          }
          std::string series, rest;
          absl::StatusOr<Labels> ls = SplitSeries(l, &series, &rest)
                                          ? ParseSeriesLabels(series)
                                          : absl::InvalidArgumentError("bad series");
          if (!ls.ok()) {
            Fail(id2, absl::StrCat("load: ", ls.status().message()));
            continue;
          }
          std::vector<std::optional<double>> vals;
          for (absl::string_view tok : absl::StrSplit(rest, ' ', absl::SkipEmpty())) {
            if (absl::Status st = ExpandValues(std::string(tok), &vals); !st.ok()) {
              Fail(id2, absl::StrCat("load: bad value ", st.message()));
            }
          }
          for (size_t k = 0; k < vals.size(); ++k) {
            if (vals[k].has_value()) {
              storage_.Add(*ls, static_cast<int64_t>(k) * *step, *vals[k]);
            }
          }
        }
        continue;
      }
      if (line.rfind("eval", 0) == 0) {
        RunEval(id, line, lines, &i, indented, native_histograms);
        continue;
      }
      Fail(id, absl::StrCat("unknown command: ", line));
    }
    return report_;
  }

 private:
  template <typename Indented>
  void RunEval(const std::string& id, const std::string& line,
               const std::vector<std::string>& lines, size_t* i, Indented indented,
               bool native_histograms) {
    std::vector<std::string> toks = absl::StrSplit(line, absl::MaxSplits(' ', 4));
    // eval[_fail|_ordered] instant at <time> <expr>
    Expected exp;
    std::string parse_err;
    while (indented(*i)) {
      std::string l = Trim(lines[*i]);
      ++*i;
      double num;
      if (ParseNumber(l, &num)) {
        exp.scalar = true;
        exp.scalar_value = num;
        continue;
      }
      std::string series, rest;
      if (!SplitSeries(l, &series, &rest)) {
        parse_err = absl::StrCat("bad expected line: ", l);
        continue;
      }
      absl::StatusOr<Labels> ls = ParseSeriesLabels(series);
      double v;
      if (!ls.ok() || !ParseNumber(rest, &v)) {
        parse_err = absl::StrCat("bad expected line: ", l);
        continue;
      }
      exp.series.emplace_back(*ls, v);
    }
    if (native_histograms) {
      report_.skipped.push_back(absl::StrCat(id, ": uses native histogram data"));
      return;
    }
    if (toks.size() < 5 || toks[1] != "instant" || toks[2] != "at") {
      if (toks.size() >= 2 && toks[1] == "range") {
        report_.skipped.push_back(absl::StrCat(id, ": eval range is not a 2.42 command"));
        return;
      }
      Fail(id, absl::StrCat("unsupported eval: ", line));
      return;
    }
    if (!parse_err.empty()) {
      Fail(id, parse_err);
      return;
    }
    const bool fail = toks[0] == "eval_fail";
    const bool ordered = toks[0] == "eval_ordered";
    absl::StatusOr<int64_t> t = ParseDuration(toks[3]);
    if (!t.ok()) {
      Fail(id, absl::StrCat("bad time: ", toks[3]));
      return;
    }
    const std::string& expr = toks[4];
    absl::StatusOr<Value> res = engine_->InstantQuery(storage_, expr, *t);
    if (fail) {
      if (res.ok()) {
        Fail(id, absl::StrCat("expected error evaluating ", expr));
      } else {
        Pass(id);
      }
      return;
    }
    if (!res.ok()) {
      Fail(id, absl::StrCat("error evaluating ", expr, ": ", res.status().message()));
      return;
    }
    std::string diff = Compare(*res, exp, ordered);
    if (!diff.empty()) {
      Fail(id, absl::StrCat(expr, ": ", diff));
      return;
    }
    // The same query as a range query must agree at t.
    absl::StatusOr<Value> rr = engine_->RangeQuery(storage_, expr, *t - 60000, *t + 60000, 60000);
    if (!rr.ok()) {
      Fail(id, absl::StrCat("error evaluating ", expr, " in range mode: ", rr.status().message()));
      return;
    }
    if (!ordered) {
      Value at_t;
      at_t.type = ValueType::kVector;
      for (const MatrixSeries& s : rr->matrix) {
        for (const Sample& p : s.points) {
          if (p.t == *t) {
            at_t.vector.push_back({s.labels, p.t, p.v});
            break;
          }
        }
      }
      if (res->type == ValueType::kScalar) {
        at_t.type = ValueType::kScalar;
        at_t.scalar = at_t.vector.empty() ? Sample{*t, NAN} : Sample{*t, at_t.vector[0].v};
      }
      diff = Compare(at_t, exp, false);
      if (!diff.empty()) {
        Fail(id, absl::StrCat(expr, " (range mode): ", diff));
        return;
      }
    }
    Pass(id);
  }

  void Pass(const std::string& id) {
    ++report_.passed;
    if (KnownFailures().count(id)) report_.fixed.push_back(id);
  }
  void Fail(const std::string& id, const std::string& why) {
    ++report_.failed;
    if (KnownFailures().count(id)) {
      ++report_.known;
      return;
    }
    report_.unexpected.push_back(absl::StrCat(id, ": ", why));
  }

  std::string name_;
  testing::MemoryStorage storage_;
  std::unique_ptr<Engine> engine_;
  FileReport report_;
};

std::vector<std::filesystem::path> TestFiles(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".test") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RunDir(const std::string& dir, bool upstream) {
  std::vector<std::filesystem::path> files = TestFiles(dir);
  if (files.empty()) {
    GTEST_SKIP() << "no PromQL test scripts in " << dir
                 << (upstream ? " (set CAIRN_PROMQL_TESTDATA to the promql-testdata folder)" : "");
  }
  int total_pass = 0, total_fail = 0;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    ScriptRunner runner(f.filename().string());
    FileReport r = runner.Run(ss.str());
    total_pass += r.passed;
    total_fail += r.failed;
    std::printf("[promql-script] %-24s passed %4d  failed %3d (known %d)  skipped %zu\n",
                f.filename().c_str(), r.passed, r.failed, r.known, r.skipped.size());
    for (const std::string& s : r.skipped) std::printf("[promql-script]   skipped %s\n", s.c_str());
    for (const std::string& s : r.fixed) {
      std::printf("[promql-script]   now passing, remove from the known list: %s\n", s.c_str());
    }
    for (const std::string& s : r.unexpected) ADD_FAILURE() << s;
  }
  std::printf("[promql-script] total: passed %d, failed %d\n", total_pass, total_fail);
}

std::string UpstreamDir() {
  if (const char* env = std::getenv("CAIRN_PROMQL_TESTDATA"); env != nullptr && *env) return env;
  return CAIRN_PROMQL_TESTDATA_DIR;
}

TEST(PromqlTestScripts, Upstream) { RunDir(UpstreamDir(), /*upstream=*/true); }

TEST(PromqlTestScripts, Cairn) { RunDir(CAIRN_PROMQL_OWN_TESTDATA_DIR, /*upstream=*/false); }

}  // namespace
}  // namespace cairn::promql
