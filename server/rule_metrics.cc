#include "server/rule_metrics.h"

#include <string>
#include <vector>

namespace cairn::server {

void RegisterRuleMetrics(MetricsRegistry* registry, const rules::RuleManager* manager) {
  const std::vector<std::string> group = {"rule_group"};
  MetricFamily* evals = registry->AddCounter("prometheus_rule_evaluations_total",
                                             "The total number of rule evaluations.", group);
  MetricFamily* failures =
      registry->AddCounter("prometheus_rule_evaluation_failures_total",
                           "The total number of rule evaluation failures.", group);
  MetricFamily* iterations = registry->AddCounter(
      "prometheus_rule_group_iterations_total",
      "The total number of scheduled rule group evaluations, whether executed or missed.", group);
  MetricFamily* missed = registry->AddCounter(
      "prometheus_rule_group_iterations_missed_total",
      "The total number of rule group evaluations missed due to slow rule group evaluation.",
      group);
  MetricFamily* duration =
      registry->AddGauge("prometheus_rule_group_last_duration_seconds",
                         "The duration of the last rule group evaluation.", group);
  MetricFamily* last_ts =
      registry->AddGauge("prometheus_rule_group_last_evaluation_timestamp_seconds",
                         "The timestamp of the last rule group evaluation in seconds.", group);
  MetricFamily* interval = registry->AddGauge("prometheus_rule_group_interval_seconds",
                                              "The interval of a rule group.", group);
  MetricFamily* rules_count =
      registry->AddGauge("prometheus_rule_group_rules", "The number of rules.", group);
  MetricFamily* samples = registry->AddGauge(
      "prometheus_rule_group_last_evaluation_samples",
      "The number of samples returned during the last rule group evaluation.", group);
  registry->AddCollector([=] {
    for (const rules::GroupSnapshot& g : manager->Groups()) {
      const std::vector<std::string> key = {g.file + ";" + g.name};
      evals->Set(key, static_cast<double>(g.stats.evaluations));
      failures->Set(key, static_cast<double>(g.stats.evaluation_failures));
      iterations->Set(key, static_cast<double>(g.stats.iterations + g.stats.iterations_missed));
      missed->Set(key, static_cast<double>(g.stats.iterations_missed));
      duration->Set(key, g.stats.last_duration_seconds);
      last_ts->Set(key, static_cast<double>(g.stats.last_eval_timestamp_ms) / 1000);
      interval->Set(key, static_cast<double>(g.interval_ms) / 1000);
      rules_count->Set(key, static_cast<double>(g.rules.size()));
      samples->Set(key, static_cast<double>(g.stats.last_samples));
    }
  });
}

}  // namespace cairn::server
