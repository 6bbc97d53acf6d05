#include "server/rules/rule_manager.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/rules/rule_file.h"

namespace cairn::rules {

RuleManager::RuleManager(Options options) : options_(std::move(options)) {}

RuleManager::~RuleManager() { Stop(); }

int64_t RuleManager::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return absl::ToUnixMillis(absl::Now());
}

absl::Status RuleManager::Update(const RulesConfig& config) {
  auto group_opts = std::make_shared<GroupOptions>();
  group_opts->engine = options_.engine;
  group_opts->queryable = options_.queryable;
  group_opts->appendable = options_.appendable;
  group_opts->sender = options_.sender;
  group_opts->external_url = options_.external_url;
  group_opts->external_labels = config.external_labels;
  group_opts->resend_delay_ms = options_.resend_delay_ms;
  group_opts->outage_tolerance_ms = options_.outage_tolerance_ms;
  group_opts->for_grace_period_ms = options_.for_grace_period_ms;

  absl::MutexLock lock(&mu_);
  const bool should_restore = !loaded_once_;
  // Load everything before touching the running groups.
  std::vector<std::unique_ptr<RuleGroup>> loaded;
  for (const std::string& file : config.files) {
    absl::StatusOr<std::vector<RuleGroupSpec>> specs = LoadRuleFile(file);
    if (!specs.ok()) return specs.status();
    for (const RuleGroupSpec& spec : *specs) {
      absl::StatusOr<std::unique_ptr<RuleGroup>> g =
          RuleGroup::Create(spec, config.evaluation_interval_ms, group_opts, should_restore);
      if (!g.ok()) return g.status();
      loaded.push_back(std::move(*g));
    }
  }
  loaded_once_ = true;

  std::map<std::string, std::unique_ptr<RunningGroup>> old;
  for (auto& rg : groups_) old[rg->group->Key()] = std::move(rg);
  groups_.clear();
  for (auto& g : loaded) {
    auto it = old.find(g->Key());
    if (it != old.end() && it->second->group->Equals(*g)) {
      // Unchanged: keep it running as it is.
      groups_.push_back(std::move(it->second));
      old.erase(it);
      continue;
    }
    auto rg = std::make_unique<RunningGroup>();
    rg->group = std::move(g);
    if (it != old.end()) {
      StopGroup(it->second.get());
      rg->group->CopyStateFrom(*it->second->group);
      old.erase(it);
    }
    if (started_) StartGroup(rg.get());
    groups_.push_back(std::move(rg));
  }
  // Removed groups: stop, then mark what they wrote stale.
  for (auto& [key, rg] : old) {
    StopGroup(rg.get());
    rg->group->MarkAllStale(NowMs());
  }
  return absl::OkStatus();
}

void RuleManager::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  for (auto& rg : groups_) StartGroup(rg.get());
}

void RuleManager::Stop() {
  absl::MutexLock lock(&mu_);
  for (auto& rg : groups_) StopGroup(rg.get());
  started_ = false;
}

void RuleManager::StartGroup(RunningGroup* rg) {
  rg->group->set_cancelled(false);
  {
    absl::MutexLock l(&rg->mu);
    rg->stop = false;
  }
  rg->thread = std::thread([this, rg] { Run(rg); });
}

void RuleManager::StopGroup(RunningGroup* rg) {
  if (rg->thread.joinable()) rg->group->set_cancelled(true);
  {
    absl::MutexLock l(&rg->mu);
    rg->stop = true;
    rg->cv.SignalAll();
  }
  if (rg->thread.joinable()) rg->thread.join();
}

void RuleManager::Run(RunningGroup* rg) {
  RuleGroup& g = *rg->group;
  const int64_t interval = g.interval_ms();
  // Wait for the first aligned slot after now, then evaluate on the grid.
  int64_t next = g.EvalTimestamp(NowMs()) + interval;
  while (true) {
    {
      absl::MutexLock l(&rg->mu);
      while (!rg->stop) {
        int64_t now = NowMs();
        if (now >= next) break;
        rg->cv.WaitWithTimeout(&rg->mu, absl::Milliseconds(std::min<int64_t>(next - now, 1000)));
      }
      if (rg->stop) return;
    }
    g.Iterate(next, NowMs());
    // Skip slots that passed while evaluating, counting them as missed.
    int64_t missed = (NowMs() - next) / interval - 1;
    if (missed > 0) {
      g.AddMissedIterations(static_cast<uint64_t>(missed));
    } else {
      missed = 0;
    }
    next += (missed + 1) * interval;
  }
}

void RuleManager::EvalAllAt(int64_t ts_ms) {
  absl::MutexLock lock(&mu_);
  for (auto& rg : groups_) rg->group->Iterate(ts_ms, ts_ms);
}

std::vector<GroupSnapshot> RuleManager::Groups() const {
  std::vector<GroupSnapshot> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& rg : groups_) out.push_back(rg->group->Snapshot());
  }
  std::sort(out.begin(), out.end(), [](const GroupSnapshot& a, const GroupSnapshot& b) {
    if (a.file != b.file) return a.file < b.file;
    return a.name < b.name;
  });
  return out;
}

}  // namespace cairn::rules
