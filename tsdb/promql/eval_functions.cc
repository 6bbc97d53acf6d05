// Function calls: the float functions of Prometheus 2.42 (promql/functions.go).
//
// Range functions (rate, *_over_time, ...) slide a window [ref - range, ref] over each
// series' samples with two indices that only move forward, so a range query reads
// every sample a bounded number of times; rate/increase find counter resets through
// a precomputed list instead of rescanning the window.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "re2/re2.h"
#include "tsdb/promql/evaluator.h"
#include "tsdb/promql/functions.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Go's math.Max / math.Min: ±Inf wins over NaN, otherwise NaN propagates.
double GoMax(double x, double y) {
  if (std::isinf(x) && x > 0) return x;
  if (std::isinf(y) && y > 0) return y;
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == 0 && x == y) return std::signbit(x) ? y : x;
  return x > y ? x : y;
}
double GoMin(double x, double y) {
  if (std::isinf(x) && x < 0) return x;
  if (std::isinf(y) && y < 0) return y;
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == 0 && x == y) return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

const Expr* Unparen(const Expr* e) {
  while (e->kind == ExprKind::kParen) e = e->As<ParenExpr>().expr.get();
  return e;
}

// ---- calendar (UTC), for the date functions ----

// Days since 1970-01-01 to civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

enum class DateFn {
  kDaysInMonth,
  kDayOfMonth,
  kDayOfWeek,
  kDayOfYear,
  kHour,
  kMinute,
  kMonth,
  kYear
};

double DateValue(DateFn fn, double seconds) {
  // Go's int64(float64) conversion; out-of-range values give the minimum on amd64.
  int64_t secs =
      (std::isnan(seconds) || seconds >= 9.2233720368547758e18 || seconds < -9.2233720368547758e18)
          ? std::numeric_limits<int64_t>::min()
          : static_cast<int64_t>(seconds);
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  switch (fn) {
    case DateFn::kDaysInMonth: {
      static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
    }
    case DateFn::kDayOfMonth:
      return d;
    case DateFn::kDayOfWeek: {
      int64_t w = (days + 4) % 7;
      return static_cast<double>(w < 0 ? w + 7 : w);
    }
    case DateFn::kDayOfYear:
      return static_cast<double>(days - DaysFromCivil(y, 1, 1) + 1);
    case DateFn::kHour:
      return static_cast<double>(sod / 3600);
    case DateFn::kMinute:
      return static_cast<double>((sod / 60) % 60);
    case DateFn::kMonth:
      return m;
    case DateFn::kYear:
      return static_cast<double>(y);
  }
  return kNaN;
}

// ---- Go regexp.Expand for label_replace ----

std::string ExpandTemplate(const RE2& re, std::string_view tmpl, const re2::StringPiece* groups,
                           int ngroups) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '$') {
      out.push_back(tmpl[i++]);
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    size_t j = i + 1;
    bool brace = j < tmpl.size() && tmpl[j] == '{';
    if (brace) ++j;
    size_t name_start = j;
    while (j < tmpl.size() && (std::isalnum(static_cast<unsigned char>(tmpl[j])) ||
                               tmpl[j] == '_' || static_cast<unsigned char>(tmpl[j]) >= 0x80)) {
      ++j;
    }
    std::string_view name = tmpl.substr(name_start, j - name_start);
    bool ok = !name.empty();
    if (ok && brace) {
      if (j >= tmpl.size() || tmpl[j] != '}') {
        ok = false;
      } else {
        ++j;
      }
    }
    if (!ok) {
      out.push_back('$');
      ++i;
      continue;
    }
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    if (num < 0) {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      num = it == named.end() ? -1 : it->second;
    }
    if (num >= 0 && num < ngroups && groups[num].data() != nullptr) {
      out.append(groups[num].data(), groups[num].size());
    }
    i = j;
  }
  return out;
}

// ---- histogram_quantile over classic buckets ----

struct Bucket {
  double upper;
  double count;
};

double BucketQuantile(double q, std::vector<Bucket>* bp) {
  std::vector<Bucket>& b = *bp;
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (!(std::isinf(b.back().upper) && b.back().upper > 0)) return kNaN;
  // Coalesce buckets with the same upper bound.
  size_t w = 0;
  for (size_t r = 1; r < b.size(); ++r) {
    if (b[r].upper == b[w].upper) {
      b[w].count += b[r].count;
    } else {
      b[++w] = b[r];
    }
  }
  b.resize(w + 1);
  // Ensure monotonic counts.
  double max = -kInf;
  for (Bucket& x : b) {
    if (x.count > max) {
      max = x.count;
    } else if (x.count < max) {
      x.count = max;
    }
  }
  if (b.size() < 2) return kNaN;
  double observations = b.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  size_t idx = 0;
  {
    // sort.Search over the first len-1 buckets.
    size_t lo = 0, hi = b.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (!(b[mid].count >= rank)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    idx = lo;
  }
  if (idx == b.size() - 1) return b[b.size() - 2].upper;
  if (idx == 0 && b[0].upper <= 0) return b[0].upper;
  double start = 0, end = b[idx].upper, count = b[idx].count;
  if (idx > 0) {
    start = b[idx - 1].upper;
    count -= b[idx - 1].count;
    rank -= b[idx - 1].count;
  }
  return start + (end - start) * (rank / count);
}

// Go's strconv.ParseFloat, for `le` label values.
bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string str(s);
  std::string lower;
  for (char c : str)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string_view l = lower;
  bool neg = false;
  if (!l.empty() && (l[0] == '+' || l[0] == '-')) {
    neg = l[0] == '-';
    l.remove_prefix(1);
  }
  if (l == "inf" || l == "infinity") {
    *out = neg ? -kInf : kInf;
    return true;
  }
  if (l == "nan") {
    *out = kNaN;
    return true;
  }
  char* end = nullptr;
  *out = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

// ---- range functions ----

enum class Fn {
  kOther,
  kRate,
  kIncrease,
  kDelta,
  kIrate,
  kIdelta,
  kAvgOverTime,
  kMinOverTime,
  kMaxOverTime,
  kSumOverTime,
  kCountOverTime,
  kQuantileOverTime,
  kStddevOverTime,
  kStdvarOverTime,
  kLastOverTime,
  kPresentOverTime,
  kAbsentOverTime,
  kChanges,
  kResets,
  kDeriv,
  kPredictLinear,
  kHoltWinters,
};

Fn RangeFn(std::string_view name) {
  static const auto* table = new absl::flat_hash_map<std::string, Fn>{
      {"rate", Fn::kRate},
      {"increase", Fn::kIncrease},
      {"delta", Fn::kDelta},
      {"irate", Fn::kIrate},
      {"idelta", Fn::kIdelta},
      {"avg_over_time", Fn::kAvgOverTime},
      {"min_over_time", Fn::kMinOverTime},
      {"max_over_time", Fn::kMaxOverTime},
      {"sum_over_time", Fn::kSumOverTime},
      {"count_over_time", Fn::kCountOverTime},
      {"quantile_over_time", Fn::kQuantileOverTime},
      {"stddev_over_time", Fn::kStddevOverTime},
      {"stdvar_over_time", Fn::kStdvarOverTime},
      {"last_over_time", Fn::kLastOverTime},
      {"present_over_time", Fn::kPresentOverTime},
      {"absent_over_time", Fn::kAbsentOverTime},
      {"changes", Fn::kChanges},
      {"resets", Fn::kResets},
      {"deriv", Fn::kDeriv},
      {"predict_linear", Fn::kPredictLinear},
      {"holt_winters", Fn::kHoltWinters},
  };
  auto it = table->find(Sv(name));
  return it == table->end() ? Fn::kOther : it->second;
}

// Prometheus' linearRegression (2.42: plain sums).
void LinearRegression(const Sample* s, size_t n, int64_t intercept_time, double* slope,
                      double* intercept) {
  double cnt = 0, sum_x = 0, sum_y = 0, sum_xy = 0, sum_x2 = 0;
  double init_y = s[0].v;
  bool const_y = true;
  for (size_t i = 0; i < n; ++i) {
    if (const_y && i > 0 && s[i].v != init_y) const_y = false;
    cnt += 1;
    double x = static_cast<double>(s[i].t - intercept_time) / 1e3;
    sum_x += x;
    sum_y += s[i].v;
    sum_xy += x * s[i].v;
    sum_x2 += x * x;
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = kNaN;
      *intercept = kNaN;
      return;
    }
    *slope = 0;
    *intercept = init_y;
    return;
  }
  double cov_xy = sum_xy - sum_x * sum_y / cnt;
  double var_x = sum_x2 - sum_x * sum_x / cnt;
  *slope = cov_xy / var_x;
  *intercept = sum_y / cnt - *slope * sum_x / cnt;
}

inline void KahanInc(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if (std::abs(*sum) >= std::abs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

Labels AbsentLabels(const Expr* arg) {
  arg = Unparen(arg);
  const std::vector<Matcher>* ms = nullptr;
  if (arg->kind == ExprKind::kVectorSelector) {
    ms = &arg->As<VectorSelector>().matchers;
  } else if (arg->kind == ExprKind::kMatrixSelector) {
    ms = &arg->As<MatrixSelector>().vs->matchers;
  } else {
    return Labels();
  }
  LabelsBuilder b;
  std::vector<std::string> has;
  for (const Matcher& m : *ms) {
    if (m.name() == kMetricNameLabel) continue;
    if (m.type() == MatchType::kEqual && std::find(has.begin(), has.end(), m.name()) == has.end()) {
      b.Set(m.name(), m.value());
      has.push_back(m.name());
    } else {
      b.Del(m.name());
    }
  }
  return b.Build();
}

}  // namespace

absl::StatusOr<StepValue> Evaluator::EvalRangeFunction(const Call& e, const Grid& g,
                                                       int matrix_arg) {
  const Fn fn = RangeFn(e.func->name);
  // Scalar arguments, evaluated over the grid.
  std::vector<std::vector<double>> scalars(e.args.size());
  for (size_t a = 0; a < e.args.size(); ++a) {
    if (static_cast<int>(a) == matrix_arg) continue;
    absl::StatusOr<StepValue> v = Eval(*e.args[a], g);
    if (!v.ok()) return v.status();
    scalars[a] = std::move(v->scalar);
  }
  const size_t n = g.n;
  StepValue out;
  out.type = ValueType::kVector;
  RangeWindows ra;

  if (fn == Fn::kAbsentOverTime) {
    std::vector<uint8_t> present(n, 0);
    absl::Status st = ForEachRangeSeries(*e.args[matrix_arg], g, &ra,
                                         [&](const Labels&, const std::vector<Sample>& p) {
                                           size_t lo = 0, hi = 0;
                                           for (size_t i = 0; i < n; ++i) {
                                             int64_t ref = ra.refs[i], mint = ref - ra.range_ms;
                                             while (hi < p.size() && p[hi].t <= ref) ++hi;
                                             while (lo < hi && p[lo].t < mint) ++lo;
                                             if (hi > lo) present[i] = 1;
                                           }
                                           return absl::OkStatus();
                                         });
    if (!st.ok()) return st;
    StepSeries row;
    row.v.assign(n, Absent());
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      if (!present[i]) {
        row.v[i] = 1;
        any = true;
      }
    }
    if (any) {
      row.labels = AbsentLabels(e.args[matrix_arg].get());
      out.series.push_back(std::move(row));
    }
    return out;
  }

  std::vector<size_t> resets;
  std::vector<double> window_vals;
  auto per_series = [&](const Labels& labels, const std::vector<Sample>& p) -> absl::Status {
    // With @ every step reads the same window; compute it once unless the function
    // also depends on the step time.
    const bool same_window = n > 1 && ra.refs.front() == ra.refs.back() && fn != Fn::kPredictLinear;
    StepSeries row;
    row.v.assign(n, Absent());
    resets.clear();
    if (fn == Fn::kRate || fn == Fn::kIncrease) {
      for (size_t k = 1; k < p.size(); ++k) {
        if (p[k].v < p[k - 1].v) resets.push_back(k);
      }
    }
    size_t lo = 0, hi = 0, rp = 0;
    bool any = false;
    const size_t steps = same_window ? 1 : n;
    for (size_t i = 0; i < steps; ++i) {
      const int64_t ref = ra.refs[i], mint = ref - ra.range_ms;
      while (hi < p.size() && p[hi].t <= ref) ++hi;
      while (lo < hi && p[lo].t < mint) ++lo;
      if (hi <= lo) continue;
      const Sample* w = p.data() + lo;
      const size_t cnt = hi - lo;
      double v = Absent();
      switch (fn) {
        case Fn::kRate:
        case Fn::kIncrease:
        case Fn::kDelta: {
          if (cnt < 2) break;
          const bool counter = fn != Fn::kDelta;
          double result = w[cnt - 1].v - w[0].v;
          if (counter) {
            while (rp < resets.size() && resets[rp] <= lo) ++rp;
            for (size_t q = rp; q < resets.size() && resets[q] < hi; ++q) {
              result += p[resets[q] - 1].v;
            }
          }
          const double range_start = static_cast<double>(mint);
          double to_start = (static_cast<double>(w[0].t) - range_start) / 1000;
          double to_end = static_cast<double>(ref - w[cnt - 1].t) / 1000;
          double sampled = static_cast<double>(w[cnt - 1].t - w[0].t) / 1000;
          double avg_between = sampled / static_cast<double>(cnt - 1);
          if (counter && result > 0 && w[0].v >= 0) {
            double to_zero = sampled * (w[0].v / result);
            if (to_zero < to_start) to_start = to_zero;
          }
          double threshold = avg_between * 1.1;
          double extrapolate_to = sampled;
          extrapolate_to += to_start < threshold ? to_start : avg_between / 2;
          extrapolate_to += to_end < threshold ? to_end : avg_between / 2;
          double factor = extrapolate_to / sampled;
          if (fn == Fn::kRate) factor /= static_cast<double>(ra.range_ms) / 1000;
          v = result * factor;
          break;
        }
        case Fn::kIrate:
        case Fn::kIdelta: {
          if (cnt < 2) break;
          const Sample& last = w[cnt - 1];
          const Sample& prev = w[cnt - 2];
          bool is_rate = fn == Fn::kIrate;
          double result = (is_rate && last.v < prev.v) ? last.v : last.v - prev.v;
          int64_t interval = last.t - prev.t;
          if (interval == 0) break;
          if (is_rate) result /= static_cast<double>(interval) / 1000;
          v = result;
          break;
        }
        case Fn::kAvgOverTime: {
          double mean = 0, count = 0;
          for (size_t k = 0; k < cnt; ++k) {
            double x = w[k].v;
            count += 1;
            if (std::isinf(mean)) {
              if (std::isinf(x) && (mean > 0) == (x > 0)) continue;
              if (!std::isinf(x) && !std::isnan(x)) continue;
            }
            mean += x / count - mean / count;
          }
          v = mean;
          break;
        }
        case Fn::kMinOverTime:
        case Fn::kMaxOverTime: {
          double m = w[0].v;
          bool is_max = fn == Fn::kMaxOverTime;
          for (size_t k = 0; k < cnt; ++k) {
            double x = w[k].v;
            if ((is_max ? x > m : x < m) || std::isnan(m)) m = x;
          }
          v = m;
          break;
        }
        case Fn::kSumOverTime: {
          double sum = 0;
          for (size_t k = 0; k < cnt; ++k) sum += w[k].v;
          v = sum;
          break;
        }
        case Fn::kCountOverTime:
          v = static_cast<double>(cnt);
          break;
        case Fn::kQuantileOverTime: {
          window_vals.clear();
          for (size_t k = 0; k < cnt; ++k) window_vals.push_back(w[k].v);
          double q = scalars[0][i];
          if (std::isnan(q)) {
            v = kNaN;
          } else if (q < 0) {
            v = -kInf;
          } else if (q > 1) {
            v = kInf;
          } else {
            std::sort(window_vals.begin(), window_vals.end(), [](double a, double b) {
              if (std::isnan(a)) return !std::isnan(b);
              return a < b;
            });
            double nn = static_cast<double>(cnt);
            double rank = q * (nn - 1);
            double lower = std::max(0.0, std::floor(rank));
            double upper = std::min(nn - 1, lower + 1);
            double weight = rank - std::floor(rank);
            v = window_vals[static_cast<size_t>(lower)] * (1 - weight) +
                window_vals[static_cast<size_t>(upper)] * weight;
          }
          break;
        }
        case Fn::kStddevOverTime:
        case Fn::kStdvarOverTime: {
          double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
          for (size_t k = 0; k < cnt; ++k) {
            double x = w[k].v;
            count += 1;
            double delta = x - (mean + c_mean);
            KahanInc(delta / count, &mean, &c_mean);
            KahanInc(delta * (x - (mean + c_mean)), &aux, &c_aux);
          }
          double var = (aux + c_aux) / count;
          v = fn == Fn::kStddevOverTime ? std::sqrt(var) : var;
          break;
        }
        case Fn::kLastOverTime:
          v = w[cnt - 1].v;
          break;
        case Fn::kPresentOverTime:
          v = 1;
          break;
        case Fn::kChanges:
        case Fn::kResets: {
          double changes = 0;
          double prev = w[0].v;
          for (size_t k = 1; k < cnt; ++k) {
            double cur = w[k].v;
            if (fn == Fn::kChanges) {
              if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) changes += 1;
            } else if (cur < prev) {
              changes += 1;
            }
            prev = cur;
          }
          v = changes;
          break;
        }
        case Fn::kDeriv: {
          if (cnt < 2) break;
          double slope, intercept;
          LinearRegression(w, cnt, w[0].t, &slope, &intercept);
          v = slope;
          break;
        }
        case Fn::kPredictLinear: {
          if (cnt < 2) break;
          double slope, intercept;
          LinearRegression(w, cnt, g.T(i), &slope, &intercept);
          v = slope * scalars[1][i] + intercept;
          break;
        }
        case Fn::kHoltWinters: {
          double sf = scalars[1][i], tf = scalars[2][i];
          if (sf <= 0 || sf >= 1) {
            return EvalError(
                absl::StrFormat("invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf));
          }
          if (tf <= 0 || tf >= 1) {
            return EvalError(
                absl::StrFormat("invalid trend factor. Expected: 0 < tf < 1, got: %f", tf));
          }
          if (cnt < 2) break;
          double s0 = 0, s1 = w[0].v, b = w[1].v - w[0].v;
          for (size_t k = 1; k < cnt; ++k) {
            double x = sf * w[k].v;
            if (k > 1) b = tf * (s1 - s0) + (1 - tf) * b;
            double y = (1 - sf) * (s1 + b);
            s0 = s1;
            s1 = x + y;
          }
          v = s1;
          break;
        }
        default:
          return absl::UnimplementedError(
              absl::StrCat("function ", Sv(e.func->name), " is not implemented"));
      }
      if (!IsAbsent(v)) {
        row.v[i] = v;
        any = true;
      }
    }
    if (same_window) std::fill(row.v.begin() + 1, row.v.end(), row.v[0]);
    if (!any) return absl::OkStatus();
    row.labels = fn == Fn::kLastOverTime ? labels : DropMetricName(labels);
    out.series.push_back(std::move(row));
    return AddSamples(static_cast<int64_t>(n));
  };
  if (absl::Status st = ForEachRangeSeries(*e.args[matrix_arg], g, &ra, per_series); !st.ok()) {
    return st;
  }
  if (ContainsSameLabelset(out.series)) {
    return EvalError("vector cannot contain metrics with the same labelset");
  }
  return out;
}

absl::StatusOr<StepValue> Evaluator::EvalCall(const Call& e, const Grid& g) {
  const std::string_view name = e.func->name;
  for (size_t a = 0; a < e.args.size(); ++a) {
    if (e.args[a]->type() == ValueType::kMatrix) {
      return EvalRangeFunction(e, g, static_cast<int>(a));
    }
  }
  const size_t n = g.n;
  StepValue out;
  out.type = e.func->return_type;

  if (name == "time" || name == "pi") {
    out.scalar.resize(n);
    for (size_t i = 0; i < n; ++i) {
      out.scalar[i] = name == "pi" ? std::numbers::pi : static_cast<double>(g.T(i)) / 1000;
    }
    return out;
  }
  if (name == "timestamp") {
    const Expr* arg = Unparen(e.args[0].get());
    absl::StatusOr<StepValue> v =
        arg->kind == ExprKind::kVectorSelector
            ? EvalVectorSelector(arg->As<VectorSelector>(), g, /*with_timestamps=*/true)
            : Eval(*arg, g);
    if (!v.ok()) return v.status();
    for (StepSeries& s : v->series) {
      s.labels = DropMetricName(s.labels);
      for (size_t i = 0; i < n; ++i) {
        if (IsAbsent(s.v[i])) continue;
        int64_t t = s.ts.empty() ? g.T(i) : s.ts[i];
        s.v[i] = static_cast<double>(t) / 1000;
      }
      s.ts.clear();
    }
    if (absl::Status st = MergeSameLabels(&v->series, n); !st.ok()) return st;
    return v;
  }

  // Evaluate the arguments.
  std::vector<StepValue> args;
  args.reserve(e.args.size());
  for (const ExprPtr& a : e.args) {
    absl::StatusOr<StepValue> v = Eval(*a, g);
    if (!v.ok()) return v.status();
    args.push_back(std::move(*v));
  }

  if (name == "vector") {
    StepSeries s;
    s.v = std::move(args[0].scalar);
    out.series.push_back(std::move(s));
    return out;
  }
  if (name == "scalar") {
    out.scalar.assign(n, kNaN);
    std::vector<int> count(n, 0);
    for (const StepSeries& s : args[0].series) {
      for (size_t i = 0; i < n; ++i) {
        if (IsAbsent(s.v[i])) continue;
        if (++count[i] == 1) out.scalar[i] = s.v[i];
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (count[i] != 1) out.scalar[i] = kNaN;
    }
    return out;
  }
  if (name == "absent") {
    StepSeries row;
    row.v.assign(n, 1);
    for (const StepSeries& s : args[0].series) {
      for (size_t i = 0; i < n; ++i) {
        if (!IsAbsent(s.v[i])) row.v[i] = Absent();
      }
    }
    row.labels = AbsentLabels(e.args[0].get());
    out.series.push_back(std::move(row));
    DropEmpty(&out.series);
    return out;
  }
  if (name == "sort" || name == "sort_desc") {
    out = std::move(args[0]);
    if (n == 1) {
      bool desc = name == "sort_desc";
      std::stable_sort(out.series.begin(), out.series.end(),
                       [desc](const StepSeries& a, const StepSeries& b) {
                         double x = a.v[0], y = b.v[0];
                         if (std::isnan(x)) return false;
                         if (std::isnan(y)) return true;
                         return desc ? x > y : x < y;
                       });
    }
    return out;
  }
  if (name == "label_replace") {
    const std::string& dst = args[1].str;
    const std::string& repl = args[2].str;
    const std::string& src = args[3].str;
    const std::string& regex = args[4].str;
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re(absl::StrCat("^(?:", regex, ")$"), opts);
    if (!re.ok()) {
      return EvalError(absl::StrCat("invalid regular expression in label_replace(): ", regex));
    }
    if (!IsValidLabelName(dst)) {
      return EvalError(absl::StrCat("invalid destination label name in label_replace(): ", dst));
    }
    out = std::move(args[0]);
    const int ngroups = re.NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
    for (StepSeries& s : out.series) {
      std::string_view sv = s.labels.Get(src);
      re2::StringPiece text(sv.data(), sv.size());
      if (!re.Match(text, 0, text.size(), RE2::ANCHOR_BOTH, groups.data(), ngroups)) continue;
      std::string res = ExpandTemplate(re, repl, groups.data(), ngroups);
      LabelsBuilder b(s.labels);
      b.Del(dst);
      if (!res.empty()) b.Set(dst, res);
      s.labels = b.Build();
    }
    if (absl::Status st = MergeSameLabels(&out.series, n); !st.ok()) return st;
    return out;
  }
  if (name == "label_join") {
    const std::string& dst = args[1].str;
    const std::string& sep = args[2].str;
    std::vector<std::string> srcs;
    for (size_t a = 3; a < args.size(); ++a) {
      if (!IsValidLabelName(args[a].str)) {
        return EvalError(absl::StrCat("invalid source label name in label_join(): ", args[a].str));
      }
      srcs.push_back(args[a].str);
    }
    if (!IsValidLabelName(dst)) {
      return EvalError(absl::StrCat("invalid destination label name in label_join(): ", dst));
    }
    out = std::move(args[0]);
    for (StepSeries& s : out.series) {
      std::string joined;
      for (size_t k = 0; k < srcs.size(); ++k) {
        if (k > 0) joined += sep;
        joined += s.labels.Get(srcs[k]);
      }
      LabelsBuilder b(s.labels);
      if (!joined.empty()) {
        b.Set(dst, joined);
      } else {
        b.Del(dst);
      }
      s.labels = b.Build();
    }
    if (absl::Status st = MergeSameLabels(&out.series, n); !st.ok()) return st;
    return out;
  }
  if (name == "histogram_quantile") {
    const std::vector<double>& q = args[0].scalar;
    std::vector<StepSeries>& in = args[1].series;
    absl::flat_hash_map<std::string, size_t> groups;
    std::vector<size_t> group_of(in.size(), static_cast<size_t>(-1));
    std::vector<double> upper(in.size());
    for (size_t s = 0; s < in.size(); ++s) {
      if (!ParseGoFloat(in[s].labels.Get("le"), &upper[s])) continue;
      LabelsBuilder b(in[s].labels);
      b.Del("le");
      Labels sig = b.Build();
      auto [it, inserted] = groups.emplace(sig.encoded(), out.series.size());
      if (inserted) {
        StepSeries row;
        row.labels = DropMetricName(sig);
        row.v.assign(n, Absent());
        out.series.push_back(std::move(row));
      }
      group_of[s] = it->second;
    }
    std::vector<std::vector<Bucket>> buckets(out.series.size());
    for (size_t i = 0; i < n; ++i) {
      for (auto& b : buckets) b.clear();
      for (size_t s = 0; s < in.size(); ++s) {
        if (group_of[s] == static_cast<size_t>(-1) || IsAbsent(in[s].v[i])) continue;
        buckets[group_of[s]].push_back({upper[s], in[s].v[i]});
      }
      for (size_t grp = 0; grp < buckets.size(); ++grp) {
        if (!buckets[grp].empty()) out.series[grp].v[i] = BucketQuantile(q[i], &buckets[grp]);
      }
    }
    DropEmpty(&out.series);
    if (absl::Status st = MergeSameLabels(&out.series, n); !st.ok()) return st;
    return out;
  }
  if (name == "histogram_count" || name == "histogram_sum" || name == "histogram_fraction") {
    return out;  // only native histograms, which Cairn does not store
  }

  // Date functions.
  static const auto* kDate = new absl::flat_hash_map<std::string, DateFn>{
      {"days_in_month", DateFn::kDaysInMonth},
      {"day_of_month", DateFn::kDayOfMonth},
      {"day_of_week", DateFn::kDayOfWeek},
      {"day_of_year", DateFn::kDayOfYear},
      {"hour", DateFn::kHour},
      {"minute", DateFn::kMinute},
      {"month", DateFn::kMonth},
      {"year", DateFn::kYear},
  };
  if (auto it = kDate->find(Sv(name)); it != kDate->end()) {
    DateFn fn = it->second;
    if (args.empty()) {
      StepSeries s;
      s.v.resize(n);
      for (size_t i = 0; i < n; ++i) {
        s.v[i] = DateValue(fn, static_cast<double>(g.T(i) / 1000));
      }
      out.series.push_back(std::move(s));
      return out;
    }
    out = std::move(args[0]);
    for (StepSeries& s : out.series) {
      s.labels = DropMetricName(s.labels);
      for (double& v : s.v) {
        if (!IsAbsent(v)) v = DateValue(fn, v);
      }
    }
    if (absl::Status st = MergeSameLabels(&out.series, n); !st.ok()) return st;
    return out;
  }

  // Element-wise math; scalar parameters come per step.
  out = std::move(args[0]);
  auto apply = [&](auto f) -> absl::Status {
    for (StepSeries& s : out.series) {
      s.labels = DropMetricName(s.labels);
      for (size_t i = 0; i < n; ++i) {
        if (!IsAbsent(s.v[i])) s.v[i] = f(s.v[i], i);
      }
    }
    return MergeSameLabels(&out.series, n);
  };
  absl::Status st;
  if (name == "abs") {
    st = apply([](double v, size_t) { return std::abs(v); });
  } else if (name == "ceil") {
    st = apply([](double v, size_t) { return std::ceil(v); });
  } else if (name == "floor") {
    st = apply([](double v, size_t) { return std::floor(v); });
  } else if (name == "exp") {
    st = apply([](double v, size_t) { return std::exp(v); });
  } else if (name == "sqrt") {
    st = apply([](double v, size_t) { return std::sqrt(v); });
  } else if (name == "ln") {
    st = apply([](double v, size_t) { return std::log(v); });
  } else if (name == "log2") {
    st = apply([](double v, size_t) { return std::log2(v); });
  } else if (name == "log10") {
    st = apply([](double v, size_t) { return std::log10(v); });
  } else if (name == "sgn") {
    st = apply([](double v, size_t) { return v < 0 ? -1.0 : v > 0 ? 1.0 : v; });
  } else if (name == "acos") {
    st = apply([](double v, size_t) { return std::acos(v); });
  } else if (name == "acosh") {
    st = apply([](double v, size_t) { return std::acosh(v); });
  } else if (name == "asin") {
    st = apply([](double v, size_t) { return std::asin(v); });
  } else if (name == "asinh") {
    st = apply([](double v, size_t) { return std::asinh(v); });
  } else if (name == "atan") {
    st = apply([](double v, size_t) { return std::atan(v); });
  } else if (name == "atanh") {
    st = apply([](double v, size_t) { return std::atanh(v); });
  } else if (name == "cos") {
    st = apply([](double v, size_t) { return std::cos(v); });
  } else if (name == "cosh") {
    st = apply([](double v, size_t) { return std::cosh(v); });
  } else if (name == "sin") {
    st = apply([](double v, size_t) { return std::sin(v); });
  } else if (name == "sinh") {
    st = apply([](double v, size_t) { return std::sinh(v); });
  } else if (name == "tan") {
    st = apply([](double v, size_t) { return std::tan(v); });
  } else if (name == "tanh") {
    st = apply([](double v, size_t) { return std::tanh(v); });
  } else if (name == "deg") {
    st = apply([](double v, size_t) { return v * 180 / std::numbers::pi; });
  } else if (name == "rad") {
    st = apply([](double v, size_t) { return v * std::numbers::pi / 180; });
  } else if (name == "round") {
    std::vector<double> to = args.size() > 1 ? args[1].scalar : std::vector<double>(n, 1.0);
    st = apply([&](double v, size_t i) {
      double inv = 1.0 / to[i];
      return std::floor(v * inv + 0.5) / inv;
    });
  } else if (name == "clamp") {
    const std::vector<double>& lo = args[1].scalar;
    const std::vector<double>& hi = args[2].scalar;
    // max < min gives an empty result at that step.
    for (StepSeries& s : out.series) {
      for (size_t i = 0; i < n; ++i) {
        if (hi[i] < lo[i]) s.v[i] = Absent();
      }
    }
    st = apply([&](double v, size_t i) { return GoMax(lo[i], GoMin(hi[i], v)); });
    DropEmpty(&out.series);
  } else if (name == "clamp_max") {
    const std::vector<double>& hi = args[1].scalar;
    st = apply([&](double v, size_t i) { return GoMin(hi[i], v); });
  } else if (name == "clamp_min") {
    const std::vector<double>& lo = args[1].scalar;
    st = apply([&](double v, size_t i) { return GoMax(lo[i], v); });
  } else {
    return absl::UnimplementedError(absl::StrCat("function ", Sv(name), " is not implemented"));
  }
  if (!st.ok()) return st;
  return out;
}

}  // namespace cairn::promql::internal
