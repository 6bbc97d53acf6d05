// RuleManager: loads the config's rule files and runs their groups, each on its own
// thread at its interval (Prometheus 2.42 rules.Manager).
//
//   RuleManager::Options opts;
//   opts.engine = engine; opts.queryable = db; opts.appendable = db;
//   opts.sender = notifier;   // may be null: alerts are evaluated but not delivered
//   RuleManager mgr(opts);
//   CAIRN_RETURN_IF_ERROR(mgr.Update(config));   // load or reload
//   mgr.Start();
//   ...
//   mgr.Stop();                                  // before the DB closes
//
// Update() loads every file first and changes nothing if any fails (a bad rule file
// refuses the reload). Groups whose definition is unchanged keep running untouched;
// changed groups are replaced by new ones that inherit their alert state and series
// (matched by rule name and labels); removed groups stop and their series are marked
// stale. Groups loaded by the first Update() restore alert `for` state from
// ALERTS_FOR_STATE after their second evaluation.
//
// Thread-safety: Update, Start and Stop are serialised by the caller's reload lock;
// Groups() and the stats may be called from any thread at any time. The evaluation
// threads hold no lock of the manager while they evaluate.
#ifndef CAIRN_SERVER_RULES_RULE_MANAGER_H_
#define CAIRN_SERVER_RULES_RULE_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/notifier/alert.h"
#include "server/rules/rule_group.h"
#include "tsdb/model/labels.h"
#include "tsdb/promql/engine.h"
#include "tsdb/storage/appender.h"
#include "tsdb/storage/querier.h"

namespace cairn::rules {

// The config's rule settings (server/config's Config without depending on it).
struct RulesConfig {
  std::vector<std::string> files;  // already expanded (ExpandRuleFileGlobs)
  int64_t evaluation_interval_ms = 60'000;
  Labels external_labels;
};

class RuleManager {
 public:
  struct Options {
    promql::Engine* engine = nullptr;           // borrowed
    storage::Queryable* queryable = nullptr;    // borrowed
    storage::Appendable* appendable = nullptr;  // borrowed
    notifier::AlertSender* sender = nullptr;    // borrowed; null = no delivery
    std::string external_url;
    int64_t resend_delay_ms = 60'000;
    int64_t outage_tolerance_ms = 3'600'000;
    int64_t for_grace_period_ms = 600'000;
    // Clock for evaluation timestamps (unix ms); null = the system clock.
    std::function<int64_t()> now_ms;
  };

  explicit RuleManager(Options options);
  ~RuleManager();  // stops

  // Loads `config`'s rule files and swaps in the new groups (see the header comment).
  // kInvalidArgument/kNotFound naming the file on any load error; nothing changes.
  absl::Status Update(const RulesConfig& config);

  // Starts the evaluation threads of the current and future groups.
  void Start();
  // Stops every group's thread; evaluations in progress finish first.
  void Stop();

  // Synchronously runs one iteration of every group at `ts_ms` (tests, and
  // `cairnctl`-style one-shot use). REQUIRES: not started.
  void EvalAllAt(int64_t ts_ms);

  // Groups sorted by file, then name (as /api/v1/rules lists them).
  std::vector<GroupSnapshot> Groups() const;

 private:
  struct RunningGroup {
    std::unique_ptr<RuleGroup> group;
    std::thread thread;
    absl::Mutex mu;
    absl::CondVar cv;
    bool stop ABSL_GUARDED_BY(mu) = false;
  };

  void StartGroup(RunningGroup* rg);
  void StopGroup(RunningGroup* rg);
  void Run(RunningGroup* rg);
  int64_t NowMs() const;

  const Options options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<RunningGroup>> groups_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool loaded_once_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cairn::rules

#endif  // CAIRN_SERVER_RULES_RULE_MANAGER_H_
