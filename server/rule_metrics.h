// The rule manager's metrics under Prometheus' names (rules/manager.go), read from
// the manager's group statistics at scrape time:
//   prometheus_rule_evaluations_total{rule_group="file;name"}
//   prometheus_rule_evaluation_failures_total, prometheus_rule_group_iterations_total,
//   prometheus_rule_group_iterations_missed_total,
//   prometheus_rule_group_last_duration_seconds,
//   prometheus_rule_group_last_evaluation_timestamp_seconds,
//   prometheus_rule_group_interval_seconds, prometheus_rule_group_rules,
//   prometheus_rule_group_last_evaluation_samples
//
// Thread-safety: as MetricsRegistry; the manager is read through Groups().
#ifndef CAIRN_SERVER_RULE_METRICS_H_
#define CAIRN_SERVER_RULE_METRICS_H_

#include "server/metrics_registry.h"
#include "server/rules/rule_manager.h"

namespace cairn::server {

// `manager` is borrowed and must outlive `registry`'s use of it.
void RegisterRuleMetrics(MetricsRegistry* registry, const rules::RuleManager* manager);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_RULE_METRICS_H_
