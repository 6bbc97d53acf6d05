// Binary operators: scalar/scalar, vector/scalar, vector matching (one-to-one,
// group_left/group_right) and the set operators and/or/unless — Prometheus 2.42's
// VectorBinop, VectorscalarBinop, VectorAnd/Or/Unless over a whole grid at once.
//
// Vector matching computes each series' match signature once and keeps a per-step
// table of the "one" side's series per signature, so a step costs O(series) hash-free
// array lookups.
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "tsdb/promql/evaluator.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::promql::internal {
namespace {

bool ShouldDropMetricName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kPow:
    case BinaryOp::kMod:
      return true;
    default:
      return false;
  }
}

// Prometheus' vectorElemBinop / scalarBinop: the value, and whether a comparison kept
// the element.
inline bool ElemBinop(BinaryOp op, double l, double r, double* out) {
  switch (op) {
    case BinaryOp::kAdd:
      *out = l + r;
      return true;
    case BinaryOp::kSub:
      *out = l - r;
      return true;
    case BinaryOp::kMul:
      *out = l * r;
      return true;
    case BinaryOp::kDiv:
      *out = l / r;
      return true;
    case BinaryOp::kPow:
      *out = std::pow(l, r);
      return true;
    case BinaryOp::kMod:
      *out = std::fmod(l, r);
      return true;
    case BinaryOp::kAtan2:
      *out = std::atan2(l, r);
      return true;
    case BinaryOp::kEql:
      *out = l;
      return l == r;
    case BinaryOp::kNeq:
      *out = l;
      return l != r;
    case BinaryOp::kGtr:
      *out = l;
      return l > r;
    case BinaryOp::kLss:
      *out = l;
      return l < r;
    case BinaryOp::kGte:
      *out = l;
      return l >= r;
    case BinaryOp::kLte:
      *out = l;
      return l <= r;
    default:
      *out = 0;
      return false;
  }
}

bool Contains(const std::vector<std::string>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

// The match signature: the `on` labels, or all but the `ignoring` ones and __name__.
std::string Signature(const Labels& ls, const VectorMatching& m) {
  std::string sig;
  for (const Label& l : ls) {
    bool listed = Contains(m.labels, l.name);
    if (m.on ? !listed : (listed || l.name == kMetricNameLabel)) continue;
    sig.append(l.name);
    sig.push_back('\xff');
    sig.append(l.value);
    sig.push_back('\xff');
  }
  return sig;
}

Labels MatchLabels(const Labels& ls, const VectorMatching& m) {
  LabelsBuilder b(ls);
  if (m.on) {
    b.Keep(m.labels);
  } else {
    for (const std::string& n : m.labels) b.Del(n);
    b.Del(kMetricNameLabel);
  }
  return b.Build();
}

Labels ResultMetric(const Labels& many, const Labels& one, BinaryOp op, const VectorMatching& m) {
  LabelsBuilder b(many);
  if (ShouldDropMetricName(op)) b.Del(kMetricNameLabel);
  if (m.card == Cardinality::kOneToOne) {
    if (m.on) {
      b.Keep(m.labels);
    } else {
      for (const std::string& n : m.labels) b.Del(n);
    }
  }
  for (const std::string& n : m.include) {
    std::string_view v = one.Get(n);
    if (!v.empty()) {
      b.Set(n, v);
    } else {
      b.Del(n);
    }
  }
  return b.Build();
}

// Per signature of one side, whether any of its series has a value at each step.
struct Presence {
  absl::flat_hash_map<std::string, size_t> group;
  std::vector<std::vector<uint8_t>> present;  // [group][step]
};

Presence BuildPresence(const std::vector<StepSeries>& side, const VectorMatching& m, size_t n) {
  Presence p;
  for (const StepSeries& s : side) {
    auto [it, inserted] = p.group.emplace(Signature(s.labels, m), p.present.size());
    if (inserted) p.present.emplace_back(n, 0);
    std::vector<uint8_t>& row = p.present[it->second];
    for (size_t i = 0; i < n; ++i) {
      if (!IsAbsent(s.v[i])) row[i] = 1;
    }
  }
  return p;
}

StepValue SetOperation(BinaryOp op, StepValue lhs, StepValue rhs, const VectorMatching& m,
                       size_t n) {
  StepValue out;
  out.type = ValueType::kVector;
  if (op == BinaryOp::kOr) {
    Presence left = BuildPresence(lhs.series, m, n);
    out.series = std::move(lhs.series);
    for (StepSeries& s : rhs.series) {
      auto it = left.group.find(Signature(s.labels, m));
      if (it != left.group.end()) {
        const std::vector<uint8_t>& row = left.present[it->second];
        for (size_t i = 0; i < n; ++i) {
          if (row[i]) s.v[i] = Absent();
        }
      }
      out.series.push_back(std::move(s));
    }
    DropEmpty(&out.series);
    // A left and a right series with the same labels present at different steps are
    // one series of the result (as Prometheus' per-step output merges them).
    (void)MergeSameLabels(&out.series, n);
    return out;
  }
  // and / unless keep left-hand series at the steps where the right-hand side has
  // (and) or lacks (unless) a series with the same signature.
  Presence right = BuildPresence(rhs.series, m, n);
  bool keep_if_present = op == BinaryOp::kAnd;
  for (StepSeries& s : lhs.series) {
    auto it = right.group.find(Signature(s.labels, m));
    if (it == right.group.end()) {
      if (keep_if_present) continue;
      out.series.push_back(std::move(s));
      continue;
    }
    const std::vector<uint8_t>& row = right.present[it->second];
    for (size_t i = 0; i < n; ++i) {
      if ((row[i] != 0) != keep_if_present) s.v[i] = Absent();
    }
    out.series.push_back(std::move(s));
  }
  DropEmpty(&out.series);
  return out;
}

}  // namespace

absl::StatusOr<StepValue> Evaluator::EvalBinary(const BinaryExpr& e, const Grid& g) {
  absl::StatusOr<StepValue> lhs = Eval(*e.lhs, g);
  if (!lhs.ok()) return lhs.status();
  absl::StatusOr<StepValue> rhs = Eval(*e.rhs, g);
  if (!rhs.ok()) return rhs.status();
  const BinaryOp op = e.op;
  const size_t n = g.n;

  if (lhs->type == ValueType::kScalar && rhs->type == ValueType::kScalar) {
    StepValue out;
    out.type = ValueType::kScalar;
    out.scalar.resize(n);
    for (size_t i = 0; i < n; ++i) {
      double v;
      bool keep = ElemBinop(op, lhs->scalar[i], rhs->scalar[i], &v);
      if (IsComparison(op)) v = keep ? 1 : 0;
      out.scalar[i] = v;
    }
    return out;
  }

  if (lhs->type == ValueType::kScalar || rhs->type == ValueType::kScalar) {
    bool swap = lhs->type == ValueType::kScalar;
    StepValue vec = swap ? std::move(*rhs) : std::move(*lhs);
    const std::vector<double>& scalar = swap ? lhs->scalar : rhs->scalar;
    bool drop_name = ShouldDropMetricName(op) || e.return_bool;
    for (StepSeries& s : vec.series) {
      if (drop_name) s.labels = DropMetricName(s.labels);
      for (size_t i = 0; i < n; ++i) {
        if (IsAbsent(s.v[i])) continue;
        double lv = s.v[i], rv = scalar[i];
        if (swap) std::swap(lv, rv);
        double v;
        bool keep = ElemBinop(op, lv, rv, &v);
        // A comparison keeps the vector's value even when the scalar is on the left.
        if (IsComparison(op) && swap) v = rv;
        if (e.return_bool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        s.v[i] = keep ? v : Absent();
      }
    }
    DropEmpty(&vec.series);
    if (drop_name) {
      if (absl::Status st = MergeSameLabels(&vec.series, n); !st.ok()) return st;
    }
    return vec;
  }

  const VectorMatching& m = e.matching;
  if (IsSetOperator(op)) return SetOperation(op, std::move(*lhs), std::move(*rhs), m, n);

  StepValue out;
  out.type = ValueType::kVector;
  if (lhs->series.empty() || rhs->series.empty()) return out;
  // The "one" side goes right; for group_right the sides swap, and so do the operands
  // when computing values.
  bool swapped = m.card == Cardinality::kOneToMany;
  std::vector<StepSeries>& many = swapped ? rhs->series : lhs->series;
  std::vector<StepSeries>& one = swapped ? lhs->series : rhs->series;

  absl::flat_hash_map<std::string, size_t> groups;
  std::vector<size_t> one_group(one.size());
  for (size_t r = 0; r < one.size(); ++r) {
    auto [it, inserted] = groups.emplace(Signature(one[r].labels, m), groups.size());
    one_group[r] = it->second;
  }
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> many_group(many.size(), kNone);
  for (size_t l = 0; l < many.size(); ++l) {
    auto it = groups.find(Signature(many[l].labels, m));
    if (it != groups.end()) many_group[l] = it->second;
  }

  // Fast path, the common case of a join: every signature has at most one series on
  // each side. No step can then see duplicates or competing matches, and each pair's
  // result labels are distinct, so the pairs are computed series by series (rows stay
  // in cache) instead of step by step.
  {
    std::vector<size_t> one_count(groups.size(), 0), many_count(groups.size(), 0);
    std::vector<size_t> one_of(groups.size(), kNone);
    for (size_t r = 0; r < one.size(); ++r) {
      ++one_count[one_group[r]];
      one_of[one_group[r]] = r;
    }
    bool simple = true;
    for (size_t l = 0; l < many.size() && simple; ++l) {
      if (many_group[l] != kNone && ++many_count[many_group[l]] > 1) simple = false;
    }
    for (size_t c : one_count) simple = simple && c <= 1;
    if (simple) {
      for (size_t l = 0; l < many.size(); ++l) {
        if (many_group[l] == kNone) continue;
        if (absl::Status st = CheckInterrupt(); !st.ok()) return st;
        const size_t r = one_of[many_group[l]];
        const std::vector<double>& lv = many[l].v;
        const std::vector<double>& rv = one[r].v;
        StepSeries row;
        row.v.assign(n, Absent());
        bool any = false;
        for (size_t i = 0; i < n; ++i) {
          if (IsAbsent(lv[i]) || IsAbsent(rv[i])) continue;
          double vl = lv[i], vr = rv[i];
          if (swapped) std::swap(vl, vr);
          double v;
          bool keep = ElemBinop(op, vl, vr, &v);
          if (e.return_bool) {
            v = keep ? 1 : 0;
          } else if (!keep) {
            continue;
          }
          row.v[i] = v;
          any = true;
        }
        if (!any) continue;
        row.labels = ResultMetric(many[l].labels, one[r].labels, op, m);
        if (e.return_bool) row.labels = DropMetricName(row.labels);
        out.series.push_back(std::move(row));
      }
      return out;
    }
  }

  std::vector<size_t> selected(groups.size(), kNone);    // per group: the one-side series
  std::vector<size_t> matched_at(groups.size(), kNone);  // one-to-one: step last matched
  absl::flat_hash_map<uint64_t, size_t> pair_result;     // (many, one) -> out index
  absl::flat_hash_map<std::string, size_t> out_index;    // result labels -> out index
  std::vector<size_t> written_step;                      // per out series
  std::vector<size_t> written_group;
  std::vector<size_t> last_one(many.size(), kNone), last_idx(many.size(), kNone);
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status st = CheckInterrupt(); !st.ok()) return st;
    std::fill(selected.begin(), selected.end(), kNone);
    for (size_t r = 0; r < one.size(); ++r) {
      if (IsAbsent(one[r].v[i])) continue;
      size_t grp = one_group[r];
      if (selected[grp] != kNone) {
        return EvalError(absl::StrCat(
            "found duplicate series for the match group ", MatchLabels(one[r].labels, m).ToString(),
            " on the ", swapped ? "left" : "right", " hand-side of the operation: [",
            one[r].labels.ToString(), ", ", one[selected[grp]].labels.ToString(),
            "];many-to-many matching not allowed: matching labels must be unique on one side"));
      }
      selected[grp] = r;
    }
    for (size_t l = 0; l < many.size(); ++l) {
      size_t grp = many_group[l];
      if (grp == kNone || IsAbsent(many[l].v[i])) continue;
      size_t r = selected[grp];
      if (r == kNone) continue;
      double vl = many[l].v[i], vr = one[r].v[i];
      if (swapped) std::swap(vl, vr);
      double v;
      bool keep = ElemBinop(op, vl, vr, &v);
      if (e.return_bool) {
        v = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      size_t idx;
      uint64_t key = (static_cast<uint64_t>(l) << 32) | r;
      if (last_one[l] == r) {
        // Usually a series keeps its partner from step to step.
        idx = last_idx[l];
      } else if (auto pit = pair_result.find(key); pit != pair_result.end()) {
        idx = pit->second;
      } else {
        Labels metric = ResultMetric(many[l].labels, one[r].labels, op, m);
        if (e.return_bool) metric = DropMetricName(metric);
        auto [oit, inserted] = out_index.emplace(metric.encoded(), out.series.size());
        if (inserted) {
          StepSeries s;
          s.labels = std::move(metric);
          s.v.assign(n, Absent());
          out.series.push_back(std::move(s));
          written_step.push_back(kNone);
          written_group.push_back(kNone);
        }
        idx = oit->second;
        pair_result.emplace(key, idx);
      }
      last_one[l] = r;
      last_idx[l] = idx;
      if (m.card == Cardinality::kOneToOne) {
        if (matched_at[grp] == i) {
          return EvalError(
              "multiple matches for labels: many-to-one matching must be explicit "
              "(group_left/group_right)");
        }
        matched_at[grp] = i;
      }
      if (written_step[idx] == i) {
        if (written_group[idx] == grp && m.card != Cardinality::kOneToOne) {
          return EvalError(
              "multiple matches for labels: grouping labels must ensure unique matches");
        }
        if (n == 1) return EvalError("vector cannot contain metrics with the same labelset");
        continue;
      }
      written_step[idx] = i;
      written_group[idx] = grp;
      out.series[idx].v[i] = v;
    }
  }
  return out;
}

}  // namespace cairn::promql::internal
