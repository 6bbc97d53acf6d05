#include "server/scrape/scrape_manager.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/config/relabel.h"
#include "tsdb/util/absl_compat.h"

namespace cairn::scrape {
namespace {

void AppendRelabel(std::string* out, const std::vector<config::RelabelConfig>& configs) {
  for (const config::RelabelConfig& r : configs) {
    absl::StrAppend(out, "[", absl::StrJoin(r.source_labels, ","), "|", r.separator, "|",
                    r.regex_text, "|", r.modulus, "|", r.target_label, "|", r.replacement, "|",
                    Sv(config::RelabelActionName(r.action)), "]");
  }
  out->push_back(';');
}

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

}  // namespace

std::string ScrapeConfigFingerprint(const config::ScrapeConfig& c) {
  std::string out = absl::StrCat(
      c.job_name, ";", absl::FormatDuration(c.scrape_interval), ";",
      absl::FormatDuration(c.scrape_timeout), ";", c.metrics_path, ";", c.scheme, ";",
      c.honor_labels, c.honor_timestamps, ";", c.sample_limit, ";", c.label_limit, ";",
      c.body_size_limit, ";", c.has_basic_auth, c.basic_auth.username, ":", c.basic_auth.password,
      ":", c.basic_auth.password_file, ";", c.has_authorization, c.authorization.type, ":",
      c.authorization.credentials, ":", c.authorization.credentials_file, ";", c.tls_config.ca_file,
      ":", c.tls_config.cert_file, ":", c.tls_config.key_file, ":", c.tls_config.server_name, ":",
      c.tls_config.insecure_skip_verify, ";");
  for (const auto& [k, vs] : c.params) absl::StrAppend(&out, k, "=", absl::StrJoin(vs, ","), "&");
  out.push_back(';');
  // Targets (static_configs, file_sd_configs) are left out: a change there only
  // re-syncs the target set, so the loops of unchanged targets keep running.
  AppendRelabel(&out, c.relabel_configs);
  AppendRelabel(&out, c.metric_relabel_configs);
  return out;
}

ScrapeManager::ScrapeManager(storage::Appendable* storage) : ScrapeManager(storage, Options()) {}

ScrapeManager::ScrapeManager(storage::Appendable* storage, Options options)
    : storage_(storage), options_(std::move(options)) {
  if (options_.start_loops) {
    scheduler_ = std::make_unique<ScrapeScheduler>(
        ScrapeScheduler::Options{.workers = options_.scrape_workers});
  }
  refresh_thread_ = std::thread([this] { RefreshLoop(); });
}

ScrapeManager::~ScrapeManager() { Stop(); }

void ScrapeManager::Stop() {
  std::vector<std::unique_ptr<ScrapeLoop>> loops;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    for (auto& [name, pool] : pools_) {
      for (auto& [hash, loop] : pool.loops) loops.push_back(std::move(loop));
    }
    pools_.clear();
  }
  StopLoops(std::move(loops), /*mark_stale=*/false);
  if (refresh_thread_.joinable()) refresh_thread_.join();
}

void ScrapeManager::StopLoops(std::vector<std::unique_ptr<ScrapeLoop>> loops, bool mark_stale) {
  for (auto& loop : loops) loop->RequestStop();
  for (auto& loop : loops) loop->Stop(mark_stale);
}

std::unique_ptr<ScrapeLoop> ScrapeManager::NewLoop(
    std::shared_ptr<Target> target, const std::shared_ptr<const config::ScrapeConfig>& cfg) {
  std::unique_ptr<Fetcher> fetcher;
  if (options_.fetcher_factory) fetcher = options_.fetcher_factory(*target, *cfg);
  auto loop = std::make_unique<ScrapeLoop>(storage_, std::move(target), cfg, std::move(fetcher));
  if (scheduler_ != nullptr) loop->Start(scheduler_.get(), options_.offset_seed);
  return loop;
}

std::vector<Labels> ScrapeManager::Discover(Pool* pool) {
  const config::ScrapeConfig& cfg = *pool->cfg;
  std::vector<Labels> out;
  for (const config::StaticConfig& group : cfg.static_configs) {
    for (Labels& l : GroupTargets(group)) out.push_back(std::move(l));
  }
  std::map<std::string, std::vector<Labels>> file_targets;
  for (const config::FileSdConfig& f : cfg.file_sd_configs) {
    for (const std::string& pattern : f.files) {
      std::filesystem::path p(pattern);
      if (p.is_relative() && !config_dir_.empty()) p = std::filesystem::path(config_dir_) / p;
      for (const std::string& file : Glob(p.string())) {
        std::vector<Labels>& targets = file_targets[file];
        auto groups = config::LoadFileSdTargets(file);
        if (!groups.ok()) {
          pool->errors.push_back(
              absl::StrCat("job ", cfg.job_name, ": ", groups.status().message()));
          auto last = pool->file_targets.find(file);
          if (last != pool->file_targets.end()) targets = last->second;
        } else {
          for (const config::StaticConfig& group : *groups) {
            for (Labels& l : GroupTargets(group)) targets.push_back(std::move(l));
          }
        }
        out.insert(out.end(), targets.begin(), targets.end());
      }
    }
  }
  pool->file_targets = std::move(file_targets);
  return out;
}

void ScrapeManager::SyncPool(const std::string& name, Pool* pool) {
  pool->errors.clear();
  pool->dropped.clear();
  std::vector<Labels> discovered = Discover(pool);
  std::map<uint64_t, std::unique_ptr<ScrapeLoop>> next;
  for (const Labels& d : discovered) {
    auto populated = PopulateTargetLabels(d, *pool->cfg);
    if (!populated.ok()) {
      pool->errors.push_back(absl::StrCat("job ", name, ": target ", d.ToString(), ": ",
                                          populated.status().message()));
      continue;
    }
    if (populated->dropped) {
      pool->dropped.push_back(std::move(populated->discovered));
      continue;
    }
    auto target = std::make_shared<Target>(std::move(populated->labels),
                                           std::move(populated->discovered), *pool->cfg);
    uint64_t hash = target->hash();
    if (next.count(hash) != 0) continue;  // the same target listed twice
    auto it = pool->loops.find(hash);
    if (it != pool->loops.end()) {
      next[hash] = std::move(it->second);
      pool->loops.erase(it);
    } else {
      next[hash] = NewLoop(std::move(target), pool->cfg);
    }
  }
  std::vector<std::unique_ptr<ScrapeLoop>> gone;
  for (auto& [hash, loop] : pool->loops) gone.push_back(std::move(loop));
  pool->loops = std::move(next);
  StopLoops(std::move(gone), /*mark_stale=*/true);

  absl::Duration refresh = absl::InfiniteDuration();
  for (const auto& f : pool->cfg->file_sd_configs) refresh = std::min(refresh, f.refresh_interval);
  pool->next_file_sd_refresh = absl::Now() + refresh;
}

void ScrapeManager::ApplyConfig(const config::Config& cfg) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  std::filesystem::path source(cfg.source);
  config_dir_ = cfg.source.empty() || cfg.source[0] == '<' ? "" : source.parent_path().string();

  std::set<std::string> wanted;
  for (const config::ScrapeConfig& sc : cfg.scrape_configs) wanted.insert(sc.job_name);
  // Jobs gone from the config: every target ends, with stale markers.
  std::vector<std::unique_ptr<ScrapeLoop>> gone;
  for (auto it = pools_.begin(); it != pools_.end();) {
    if (wanted.count(it->first) == 0) {
      for (auto& [hash, loop] : it->second.loops) gone.push_back(std::move(loop));
      it = pools_.erase(it);
    } else {
      ++it;
    }
  }
  StopLoops(std::move(gone), /*mark_stale=*/true);

  for (const config::ScrapeConfig& sc : cfg.scrape_configs) {
    std::string fingerprint = ScrapeConfigFingerprint(sc);
    Pool& pool = pools_[sc.job_name];
    if (pool.cfg != nullptr && pool.fingerprint != fingerprint) {
      // Changed config: new loops for every target. The old ones stop without stale
      // markers, so series the new loops keep writing show no gap.
      std::vector<std::unique_ptr<ScrapeLoop>> old;
      for (auto& [hash, loop] : pool.loops) old.push_back(std::move(loop));
      pool.loops.clear();
      StopLoops(std::move(old), /*mark_stale=*/false);
    }
    pool.cfg = std::make_shared<const config::ScrapeConfig>(sc);
    pool.fingerprint = std::move(fingerprint);
    SyncPool(sc.job_name, &pool);
  }
}

void ScrapeManager::RefreshFileSd() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, pool] : pools_) {
    if (!pool.cfg->file_sd_configs.empty()) SyncPool(name, &pool);
  }
}

void ScrapeManager::RefreshLoop() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopped_), absl::Seconds(1))) {
    absl::Time now = absl::Now();
    for (auto& [name, pool] : pools_) {
      if (now >= pool.next_file_sd_refresh) SyncPool(name, &pool);
    }
  }
}

std::vector<ScrapeManager::ActiveTarget> ScrapeManager::ActiveTargets() const {
  std::vector<ActiveTarget> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, pool] : pools_) {
    size_t first = out.size();
    for (const auto& [hash, loop] : pool.loops) out.push_back({name, loop->target()});
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
              [](const ActiveTarget& a, const ActiveTarget& b) {
                return a.target->url() < b.target->url();
              });
  }
  return out;
}

std::vector<ScrapeManager::DroppedTarget> ScrapeManager::DroppedTargets() const {
  std::vector<DroppedTarget> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, pool] : pools_) {
    for (const Labels& l : pool.dropped) out.push_back({name, l});
  }
  return out;
}

std::vector<std::string> ScrapeManager::sd_errors() const {
  std::vector<std::string> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, pool] : pools_) {
    out.insert(out.end(), pool.errors.begin(), pool.errors.end());
  }
  return out;
}

std::vector<ScrapeLoop*> ScrapeManager::LoopsForTesting(const std::string& pool) const {
  std::vector<ScrapeLoop*> out;
  absl::MutexLock lock(&mu_);
  auto it = pools_.find(pool);
  if (it == pools_.end()) return out;
  for (const auto& [hash, loop] : it->second.loops) out.push_back(loop.get());
  return out;
}

}  // namespace cairn::scrape
