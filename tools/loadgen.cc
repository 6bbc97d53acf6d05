#include "tools/loadgen.h"

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>
#include <snappy.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/cairn/v1/ingest.grpc.pb.h"
#include "proto/prometheus/remote.pb.h"

namespace cairn::tools {
namespace {

// One simulated series: its labels and how its value evolves.
struct SimSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  int kind;  // 0 counter, 1 gauge, 2 constant
  double value;
};

SimSeries MakeSeries(int64_t i) {
  static const char* kNames[] = {"node_cpu_seconds_total", "node_memory_bytes",
                                 "http_requests_total", "process_open_fds", "node_load1"};
  SimSeries s;
  int kind_pick = static_cast<int>(i % 10);
  s.kind = kind_pick < 5 ? 0 : (kind_pick < 8 ? 1 : 2);
  s.labels = {{"__name__", kNames[i % 5]},
              {"instance", absl::StrCat("host-", i / 100, ":9100")},
              {"job", absl::StrCat("job-", i % 7)},
              {"series", absl::StrCat(i)}};
  s.value = static_cast<double>(i % 1000);
  return s;
}

double NextValue(SimSeries* s, std::mt19937_64* rng) {
  switch (s->kind) {
    case 0:
      if ((*rng)() % 1000 == 0) {
        s->value = 0;
      } else {
        s->value += static_cast<double>((*rng)() % 100);
      }
      break;
    case 1:
      s->value = std::round(static_cast<double>((*rng)() % 1000000) / 10.0) / 100.0;
      break;
    default:
      break;
  }
  return s->value;
}

class Sender {
 public:
  explicit Sender(const LoadgenOptions& opts) : opts_(opts) {
    if (!opts.url.empty()) {
      curl_ = curl_easy_init();
      headers_ = curl_slist_append(headers_, "Content-Type: application/x-protobuf");
      headers_ = curl_slist_append(headers_, "Content-Encoding: snappy");
      headers_ = curl_slist_append(headers_, "X-Prometheus-Remote-Write-Version: 0.1.0");
    } else {
      stub_ = cairn::v1::Ingest::NewStub(
          grpc::CreateChannel(opts.grpc_target, grpc::InsecureChannelCredentials()));
    }
  }
  ~Sender() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  // Returns an error message, or "" on success.
  std::string Send(const prometheus::WriteRequest& req) {
    if (stub_ != nullptr) {
      grpc::ClientContext ctx;
      cairn::v1::WriteResponse resp;
      grpc::Status s = stub_->Write(&ctx, req, &resp);
      return s.ok() ? "" : absl::StrCat("grpc ", s.error_code(), ": ", s.error_message());
    }
    req.SerializeToString(&raw_);
    snappy::Compress(raw_.data(), raw_.size(), &compressed_);
    std::string body;
    curl_easy_setopt(curl_, CURLOPT_URL, opts_.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, compressed_.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(compressed_.size()));
    curl_easy_setopt(
        curl_, CURLOPT_WRITEFUNCTION, +[](char* p, size_t sz, size_t n, void* out) {
          static_cast<std::string*>(out)->append(p, sz * n);
          return sz * n;
        });
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) return absl::StrCat("http: ", curl_easy_strerror(rc));
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    if (code / 100 != 2) return absl::StrCat("http ", code, ": ", body);
    return "";
  }

 private:
  const LoadgenOptions& opts_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::unique_ptr<cairn::v1::Ingest::Stub> stub_;
  std::string raw_, compressed_;
};

}  // namespace

absl::StatusOr<LoadgenResult> RunLoadgen(const LoadgenOptions& opts) {
  if (opts.url.empty() == opts.grpc_target.empty()) {
    return absl::InvalidArgumentError("loadgen: give exactly one of --url and --grpc");
  }
  if (opts.series <= 0 || opts.rounds <= 0 || opts.concurrency <= 0 || opts.batch_series <= 0) {
    return absl::InvalidArgumentError("loadgen: series, rounds, concurrency, batch must be > 0");
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int64_t start_ms = opts.start_ms != 0
                               ? opts.start_ms
                               : std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                         .count() -
                                     opts.rounds * opts.interval_ms;
  std::atomic<int64_t> sent{0}, requests{0}, errors{0};
  std::mutex err_mu;
  std::string first_error;
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<bool> done{false};
  std::thread progress([&] {
    while (opts.progress && !done.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "\rloadgen: %lld samples, %.0f samples/s, %lld errors   ",
                   static_cast<long long>(sent.load()), sent.load() / secs,
                   static_cast<long long>(errors.load()));
    }
  });
  // Workers stay within kMaxLeadMs of simulated time of each other: storages refuse
  // samples older than their appendable window (Prometheus and Cairn: an hour behind
  // the newest sample), so a worker racing ahead on a busy machine would get the
  // slower workers' samples refused.
  constexpr int64_t kMaxLeadMs = 10 * 60 * 1000;
  const int64_t max_lead_rounds =
      std::max<int64_t>(1, kMaxLeadMs / std::max<int64_t>(1, opts.interval_ms));
  std::mutex pace_mu;
  std::condition_variable pace_cv;
  std::vector<int64_t> rounds_done(static_cast<size_t>(opts.concurrency), 0);
  auto wait_to_start = [&](int64_t round) {
    std::unique_lock<std::mutex> l(pace_mu);
    pace_cv.wait(l, [&] {
      return *std::min_element(rounds_done.begin(), rounds_done.end()) >= round - max_lead_rounds;
    });
  };
  auto finish = [&](int w, int64_t round) {
    std::lock_guard<std::mutex> l(pace_mu);
    rounds_done[static_cast<size_t>(w)] = round + 1;
    pace_cv.notify_all();
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < opts.concurrency; ++w) {
    workers.emplace_back([&, w] {
      Sender sender(opts);
      std::mt19937_64 rng(static_cast<uint64_t>(w) + 1);
      std::vector<SimSeries> mine;
      for (int64_t i = w; i < opts.series; i += opts.concurrency) mine.push_back(MakeSeries(i));
      prometheus::WriteRequest req;
      for (int64_t round = 0; round < opts.rounds; ++round) {
        wait_to_start(round);
        for (size_t b = 0; b < mine.size(); b += static_cast<size_t>(opts.batch_series)) {
          req.Clear();
          size_t end = std::min(mine.size(), b + static_cast<size_t>(opts.batch_series));
          for (size_t i = b; i < end; ++i) {
            auto* ts = req.add_timeseries();
            for (const auto& [n, v] : mine[i].labels) {
              auto* l = ts->add_labels();
              l->set_name(n);
              l->set_value(v);
            }
            auto* s = ts->add_samples();
            s->set_timestamp(start_ms + round * opts.interval_ms + static_cast<int64_t>(rng() % 7));
            s->set_value(NextValue(&mine[i], &rng));
          }
          std::string err = sender.Send(req);
          requests.fetch_add(1);
          if (err.empty()) {
            sent.fetch_add(static_cast<int64_t>(end - b));
          } else {
            errors.fetch_add(1);
            std::lock_guard<std::mutex> l(err_mu);
            if (first_error.empty()) first_error = err;
          }
        }
        finish(w, round);
      }
    });
  }
  for (auto& t : workers) t.join();
  done.store(true);
  progress.join();
  if (opts.progress) std::fprintf(stderr, "\n");
  LoadgenResult r;
  r.samples_sent = sent.load();
  r.requests = requests.load();
  r.errors = errors.load();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.first_error = first_error;
  return r;
}

}  // namespace cairn::tools
