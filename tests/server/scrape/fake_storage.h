// FakeStorage: an Appendable that records committed samples, for scrape tests.
#ifndef CAIRN_TESTS_SERVER_SCRAPE_FAKE_STORAGE_H_
#define CAIRN_TESTS_SERVER_SCRAPE_FAKE_STORAGE_H_

#include <bit>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tsdb/model/labels.h"
#include "tsdb/model/sample.h"
#include "tsdb/storage/appender.h"

namespace cairn::scrape {

struct Recorded {
  Labels labels;
  int64_t t;
  double v;
};

class FakeStorage : public storage::Appendable {
 public:
  class App : public storage::Appender {
   public:
    explicit App(FakeStorage* s) : s_(s) {}
    absl::StatusOr<storage::SeriesRef> Append(storage::SeriesRef ref, const Labels& labels,
                                              int64_t t, double v) override {
      pending_.push_back({labels, t, v});
      return labels.Hash() | 1;
    }
    absl::Status Commit() override {
      absl::MutexLock lock(&s_->mu_);
      for (auto& r : pending_) s_->samples_.push_back(std::move(r));
      pending_.clear();
      return absl::OkStatus();
    }
    void Rollback() override { pending_.clear(); }

   private:
    FakeStorage* s_;
    std::vector<Recorded> pending_;
  };

  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }

  std::vector<Recorded> samples() const {
    absl::MutexLock lock(&mu_);
    return samples_;
  }
  // Samples of the series with exactly these labels.
  std::vector<Recorded> Of(const Labels& labels) const {
    std::vector<Recorded> out;
    for (const Recorded& r : samples()) {
      if (r.labels == labels) out.push_back(r);
    }
    return out;
  }
  // Samples of every series whose metric name is `name`.
  std::vector<Recorded> Named(std::string_view name) const {
    std::vector<Recorded> out;
    for (const Recorded& r : samples()) {
      if (r.labels.MetricName() == name) out.push_back(r);
    }
    return out;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    samples_.clear();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Recorded> samples_ ABSL_GUARDED_BY(mu_);
};

// A Fetcher returning whatever the test set last.
class FakeFetcher : public Fetcher {
 public:
  struct State {
    absl::Mutex mu;
    std::string page;
    std::string content_type = "text/plain; version=0.0.4";
    absl::Status error;
  };
  explicit FakeFetcher(std::shared_ptr<State> state) : state_(std::move(state)) {}
  absl::Status Fetch(std::string* body, std::string* content_type) override {
    absl::MutexLock lock(&state_->mu);
    if (!state_->error.ok()) return state_->error;
    *body = state_->page;
    *content_type = state_->content_type;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cairn::scrape

#endif  // CAIRN_TESTS_SERVER_SCRAPE_FAKE_STORAGE_H_
