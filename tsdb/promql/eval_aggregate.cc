// Aggregations (sum, avg, count, min, max, group, stddev, stdvar, quantile, topk,
// bottomk, count_values) with by/without, as Prometheus 2.42's evaluator.aggregation.
//
// Each input series is assigned its group once (the grouping labels hashed through a
// map keyed by their encoding); the accumulators are then flat arrays indexed by
// group and step, filled series by series so each (group, step) sees its inputs in
// the same order Prometheus does.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tsdb/promql/evaluator.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql::internal {
namespace {

Labels GroupLabels(const Labels& metric, const std::vector<std::string>& grouping, bool without) {
  auto listed = [&](std::string_view n) {
    return std::find(grouping.begin(), grouping.end(), n) != grouping.end();
  };
  if (without) {
    return FilterLabels(metric,
                        [&](std::string_view n) { return n != kMetricNameLabel && !listed(n); });
  }
  if (grouping.empty()) return Labels();
  return FilterLabels(metric, listed);
}

// Go's strconv.FormatFloat(v, 'f', -1, 64).
std::string FormatFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

// Prometheus' quantile(): sorts `values` (NaN first) and interpolates.
double Quantile(double q, std::vector<double>* values) {
  if (values->empty()) return std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(values->begin(), values->end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values->size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return (*values)[static_cast<size_t>(lower)] * (1 - weight) +
         (*values)[static_cast<size_t>(upper)] * weight;
}

// Go's container/heap over (value, series) with Prometheus' vectorByValueHeap (topk)
// or vectorByReverseValueHeap (bottomk) ordering, so ties break as in Prometheus.
struct KHeap {
  struct Item {
    double v;
    size_t idx;
  };
  bool reverse = false;
  std::vector<Item> h;

  bool Less(size_t i, size_t j) const {
    if (std::isnan(h[i].v)) return true;
    return reverse ? h[i].v > h[j].v : h[i].v < h[j].v;
  }
  void Up(size_t j) {
    while (j > 0) {
      size_t i = (j - 1) / 2;
      if (!Less(j, i)) break;
      std::swap(h[i], h[j]);
      j = i;
    }
  }
  bool Down(size_t i0) {
    size_t i = i0, n = h.size();
    for (;;) {
      size_t j1 = 2 * i + 1;
      if (j1 >= n) break;
      size_t j = j1;
      if (j1 + 1 < n && Less(j1 + 1, j1)) j = j1 + 1;
      if (!Less(j, i)) break;
      std::swap(h[i], h[j]);
      i = j;
    }
    return i > i0;
  }
  void Push(Item it) {
    h.push_back(it);
    Up(h.size() - 1);
  }
  void Fix0() {
    if (!Down(0)) Up(0);
  }
};

bool ConvertibleToInt64(double v) {
  return v <= static_cast<double>(std::numeric_limits<int64_t>::max()) &&
         v >= static_cast<double>(std::numeric_limits<int64_t>::min());
}

}  // namespace

absl::StatusOr<StepValue> Evaluator::EvalTopBottomK(const AggregateExpr& e, StepValue in,
                                                    const std::vector<double>& param,
                                                    const Grid& g) {
  const size_t n = g.n;
  absl::flat_hash_map<std::string, size_t> groups;
  std::vector<size_t> group_of(in.series.size());
  for (size_t s = 0; s < in.series.size(); ++s) {
    Labels gl = GroupLabels(in.series[s].labels, e.grouping, e.without);
    group_of[s] = groups.emplace(gl.encoded(), groups.size()).first->second;
  }
  bool bottom = e.op == AggregateOp::kBottomk;
  StepValue out;
  out.type = ValueType::kVector;
  // Selection happens in place: at each step, values of series not selected are
  // cleared once every group's heap is final.
  std::vector<StepSeries>& rows = in.series;
  std::vector<uint8_t> chosen(rows.size(), 0);
  std::vector<size_t> order;  // single-step grids: the output order
  std::vector<KHeap> heaps(groups.size());
  std::vector<size_t> group_order;
  for (size_t i = 0; i < n; ++i) {
    double f = param[i];
    if (!ConvertibleToInt64(f)) {
      return EvalError(absl::StrCat("Scalar value ", FormatFloat(f), " overflows int64"));
    }
    int64_t k = static_cast<int64_t>(f);
    if (k < 1) {
      for (StepSeries& r : rows) r.v[i] = Absent();
      continue;
    }
    group_order.clear();
    for (KHeap& h : heaps) h.h.clear();
    for (size_t s = 0; s < in.series.size(); ++s) {
      double v = in.series[s].v[i];
      if (IsAbsent(v)) continue;
      KHeap& h = heaps[group_of[s]];
      h.reverse = bottom;
      if (h.h.empty()) group_order.push_back(group_of[s]);
      if (static_cast<int64_t>(h.h.size()) < k) {
        h.Push({v, s});
      } else if ((bottom ? h.h[0].v > v : h.h[0].v < v) ||
                 (std::isnan(h.h[0].v) && !std::isnan(v))) {
        h.h[0] = {v, s};
        if (k > 1) h.Fix0();
      }
    }
    for (size_t grp : group_order) {
      std::vector<KHeap::Item>& items = heaps[grp].h;
      // sort.Sort(sort.Reverse(heap)): descending for topk, ascending for bottomk,
      // NaN last.
      std::stable_sort(items.begin(), items.end(),
                       [bottom](const KHeap::Item& a, const KHeap::Item& b) {
                         if (std::isnan(a.v)) return false;
                         if (std::isnan(b.v)) return true;
                         return bottom ? a.v < b.v : a.v > b.v;
                       });
      for (const KHeap::Item& it : items) {
        chosen[it.idx] = 1;
        if (n == 1) order.push_back(it.idx);
      }
    }
    for (size_t s = 0; s < rows.size(); ++s) {
      if (!chosen[s]) rows[s].v[i] = Absent();
      chosen[s] = 0;
    }
  }
  if (n == 1) {
    for (size_t idx : order) out.series.push_back(std::move(rows[idx]));
    return out;
  }
  out.series = std::move(rows);
  DropEmpty(&out.series);
  return out;
}

absl::StatusOr<StepValue> Evaluator::EvalCountValues(const AggregateExpr& e, const StepValue& in,
                                                     const std::string& label, const Grid& g) {
  if (!IsValidLabelName(label)) {
    return EvalError(absl::StrCat("invalid label name ", GoQuote(label)));
  }
  std::vector<std::string> grouping = e.grouping;
  if (!e.without) grouping.push_back(label);
  const size_t n = g.n;
  StepValue out;
  out.type = ValueType::kVector;
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) {
    for (const StepSeries& s : in.series) {
      double v = s.v[i];
      if (IsAbsent(v)) continue;
      LabelsBuilder b(s.labels);
      b.Set(label, FormatFloatF(v));
      Labels gl = GroupLabels(b.Build(), grouping, e.without);
      auto [it, inserted] = index.emplace(gl.encoded(), out.series.size());
      if (inserted) {
        StepSeries row;
        row.labels = std::move(gl);
        row.v.assign(n, Absent());
        out.series.push_back(std::move(row));
      }
      double& c = out.series[it->second].v[i];
      c = IsAbsent(c) ? 1 : c + 1;
    }
  }
  return out;
}

absl::StatusOr<StepValue> Evaluator::EvalAggregate(const AggregateExpr& e, const Grid& g) {
  StepValue param;
  if (e.param != nullptr) {
    absl::StatusOr<StepValue> p = Eval(*e.param, g);
    if (!p.ok()) return p.status();
    param = std::move(*p);
  }
  absl::StatusOr<StepValue> inv = Eval(*e.expr, g);
  if (!inv.ok()) return inv.status();
  const StepValue& in = *inv;
  if (e.op == AggregateOp::kCountValues) return EvalCountValues(e, in, param.str, g);
  if (e.op == AggregateOp::kTopk || e.op == AggregateOp::kBottomk) {
    return EvalTopBottomK(e, std::move(*inv), param.scalar, g);
  }

  const size_t n = g.n;
  absl::flat_hash_map<std::string, size_t> groups;
  std::vector<Labels> group_labels;
  std::vector<size_t> group_of(in.series.size());
  for (size_t s = 0; s < in.series.size(); ++s) {
    Labels gl = GroupLabels(in.series[s].labels, e.grouping, e.without);
    auto [it, inserted] = groups.emplace(gl.encoded(), group_labels.size());
    if (inserted) group_labels.push_back(std::move(gl));
    group_of[s] = it->second;
  }
  const size_t ng = group_labels.size();
  StepValue out;
  out.type = ValueType::kVector;
  out.series.resize(ng);
  for (size_t grp = 0; grp < ng; ++grp) {
    out.series[grp].labels = std::move(group_labels[grp]);
    out.series[grp].v.assign(n, Absent());
  }

  if (e.op == AggregateOp::kQuantile) {
    std::vector<std::vector<double>> vals(ng);
    for (size_t i = 0; i < n; ++i) {
      for (auto& v : vals) v.clear();
      for (size_t s = 0; s < in.series.size(); ++s) {
        double v = in.series[s].v[i];
        if (!IsAbsent(v)) vals[group_of[s]].push_back(v);
      }
      for (size_t grp = 0; grp < ng; ++grp) {
        if (!vals[grp].empty()) out.series[grp].v[i] = Quantile(param.scalar[i], &vals[grp]);
      }
    }
    DropEmpty(&out.series);
    return out;
  }

  std::vector<double> value(ng * n), mean(ng * n), count(ng * n, 0);
  const AggregateOp op = e.op;
  for (size_t s = 0; s < in.series.size(); ++s) {
    if (absl::Status st = CheckInterrupt(); !st.ok()) return st;
    const std::vector<double>& sv = in.series[s].v;
    const size_t base = group_of[s] * n;
    for (size_t i = 0; i < n; ++i) {
      double v = sv[i];
      if (IsAbsent(v)) continue;
      size_t k = base + i;
      if (count[k] == 0) {
        count[k] = 1;
        value[k] = v;
        mean[k] = v;
        if (op == AggregateOp::kStddev || op == AggregateOp::kStdvar) value[k] = 0;
        if (op == AggregateOp::kGroup) value[k] = 1;
        continue;
      }
      switch (op) {
        case AggregateOp::kSum:
          value[k] += v;
          break;
        case AggregateOp::kAvg: {
          count[k] += 1;
          double m = mean[k];
          if (std::isinf(m)) {
            if (std::isinf(v) && (m > 0) == (v > 0)) break;
            if (!std::isinf(v) && !std::isnan(v)) break;
          }
          mean[k] = m + (v / count[k] - m / count[k]);
          break;
        }
        case AggregateOp::kMax:
          if (value[k] < v || std::isnan(value[k])) value[k] = v;
          break;
        case AggregateOp::kMin:
          if (value[k] > v || std::isnan(value[k])) value[k] = v;
          break;
        case AggregateOp::kCount:
          count[k] += 1;
          break;
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar: {
          count[k] += 1;
          double delta = v - mean[k];
          mean[k] += delta / count[k];
          value[k] += delta * (v - mean[k]);
          break;
        }
        default:
          break;
      }
    }
  }
  for (size_t grp = 0; grp < ng; ++grp) {
    std::vector<double>& row = out.series[grp].v;
    for (size_t i = 0; i < n; ++i) {
      size_t k = grp * n + i;
      if (count[k] == 0) continue;
      switch (op) {
        case AggregateOp::kAvg:
          row[i] = mean[k];
          break;
        case AggregateOp::kCount:
          row[i] = count[k];
          break;
        case AggregateOp::kStdvar:
          row[i] = value[k] / count[k];
          break;
        case AggregateOp::kStddev:
          row[i] = std::sqrt(value[k] / count[k]);
          break;
        default:
          row[i] = value[k];
          break;
      }
    }
  }
  DropEmpty(&out.series);
  return out;
}

}  // namespace cairn::promql::internal
