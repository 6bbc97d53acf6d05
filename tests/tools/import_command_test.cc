// `cairnctl import`: files with timestamps into blocks. Expected blocks, series and
// samples are worked out by hand from the input (2h = 7,200,000 ms ranges aligned to
// the epoch).
#include "tools/import_command.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tools/cairnctl_runner.h"
#include "tsdb/block/block.h"
#include "tsdb/block/ulid.h"
#include "tsdb/db.h"
#include "tsdb/model/matcher.h"
#include "tsdb/model/sample.h"

namespace cairn::tools {
namespace {

using ::cairn::testing::CairnctlResult;
using ::cairn::testing::RunCairnctl;

using SeriesDump = std::vector<std::pair<std::string, std::vector<Sample>>>;

SeriesDump Dump(storage::SeriesSet* set) {
  SeriesDump out;
  while (set->Next()) {
    std::vector<Sample> samples;
    auto it = set->At().Iterator();
    while (it->Next()) samples.push_back({it->t(), it->v()});
    EXPECT_TRUE(it->status().ok()) << it->status();
    out.emplace_back(set->At().labels().ToString(), std::move(samples));
  }
  EXPECT_TRUE(set->status().ok()) << set->status();
  return out;
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairnctl_import_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    data_ = dir_ + "/data";
  }
  void TearDown() override { ASSERT_TRUE(fs_->RemoveAll(dir_).ok()); }

  // The block directories under data_, in ULID order.
  std::vector<std::string> BlockDirs() {
    std::vector<std::string> dirs;
    auto names = fs_->ListDir(data_);
    if (!names.ok()) return dirs;
    std::sort(names->begin(), names->end());
    for (const auto& n : *names) {
      EXPECT_TRUE(block::IsUlid(n)) << "unexpected entry " << n;
      dirs.push_back(data_ + "/" + n);
    }
    return dirs;
  }

  std::shared_ptr<block::Block> OpenBlock(int64_t min_time) {
    for (const std::string& d : BlockDirs()) {
      auto b = block::Block::Open(fs_, d);
      EXPECT_TRUE(b.ok()) << b.status();
      if (b.ok() && (*b)->meta().min_time == min_time) return *b;
    }
    ADD_FAILURE() << "no block starting at " << min_time;
    return nullptr;
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << content;
    return path;
  }

  io::FileSystem* fs_ = io::FileSystem::Default();
  std::string dir_;
  std::string data_;
};

// Out of order lines, a differently spelt identical series, an exact duplicate, both
// sides of a 2h boundary.
constexpr char kText[] =
    "# HELP http_requests_total Requests.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{code=\"200\",method=\"get\"} 1 1000\n"
    "http_requests_total{code=\"200\",method=\"get\"} 2 2000\n"
    "http_requests_total{code=\"500\",method=\"get\"} 5 1500\n"
    "up{job=\"a\"} 1 7199999\n"
    "up{job=\"a\"} 0 7200000\n"
    "http_requests_total{method=\"get\",code=\"200\"} 3 3000\n"
    "http_requests_total{code=\"200\",method=\"get\"} 2 2000\n"
    "up{job=\"a\"} 1 500\n";

TEST_F(ImportTest, GroupsBySeriesAndAlignedRange) {
  auto blocks = ImportText(fs_, kText, data_, ImportOptions{});
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ((*blocks)[0].min_time, 500);
  EXPECT_EQ((*blocks)[0].max_time, 7200000);
  EXPECT_EQ((*blocks)[0].num_series, 3u);
  EXPECT_EQ((*blocks)[0].num_samples, 6u);
  EXPECT_EQ((*blocks)[1].min_time, 7200000);
  EXPECT_EQ((*blocks)[1].max_time, 7200001);
  EXPECT_EQ((*blocks)[1].num_series, 1u);
  EXPECT_EQ((*blocks)[1].num_samples, 1u);
  ASSERT_EQ(BlockDirs().size(), 2u);  // no temporary directories left

  auto b0 = OpenBlock(500);
  ASSERT_NE(b0, nullptr);
  EXPECT_EQ(b0->meta().max_time, 7200000);
  EXPECT_EQ(b0->meta().level, 1);
  EXPECT_EQ(b0->meta().sources, std::vector<std::string>{b0->meta().ulid});
  EXPECT_EQ(b0->meta().num_series, 3u);
  EXPECT_EQ(b0->meta().num_samples, 6u);
  EXPECT_TRUE(b0->Verify().ok());
  SeriesDump want0 = {
      {"{__name__=\"http_requests_total\", code=\"200\", method=\"get\"}",
       {{1000, 1}, {2000, 2}, {3000, 3}}},
      {"{__name__=\"http_requests_total\", code=\"500\", method=\"get\"}", {{1500, 5}}},
      {"{__name__=\"up\", job=\"a\"}", {{500, 1}, {7199999, 1}}},
  };
  EXPECT_EQ(Dump(b0->AllSeries().get()), want0);

  auto b1 = OpenBlock(7200000);
  ASSERT_NE(b1, nullptr);
  EXPECT_EQ(b1->meta().max_time, 7200001);
  SeriesDump want1 = {{"{__name__=\"up\", job=\"a\"}", {{7200000, 0}}}};
  EXPECT_EQ(Dump(b1->AllSeries().get()), want1);
}

TEST_F(ImportTest, ChunksOf120AndNegativeTimesAndBlockDuration) {
  std::string text;
  for (int i = 0; i < 250; ++i) text += "s " + std::to_string(i) + " " + std::to_string(i) + "\n";
  text += "neg 7 -1\n";  // floor(-1 / 1h) = -1: range [-3600000, 0)
  ImportOptions o;
  o.block_duration_ms = 3600 * 1000;
  auto blocks = ImportText(fs_, text, data_, o);
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ((*blocks)[0].min_time, -1);
  EXPECT_EQ((*blocks)[0].max_time, 0);
  EXPECT_EQ((*blocks)[1].min_time, 0);
  EXPECT_EQ((*blocks)[1].max_time, 250);
  auto b = OpenBlock(0);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->meta().num_chunks, 3u);  // 120 + 120 + 10
  EXPECT_EQ(b->meta().num_samples, 250u);
  SeriesDump got = Dump(b->AllSeries().get());
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].second.size(), 250u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(got[0].second[i], (Sample{i, double(i)}));
  auto neg = OpenBlock(-1);
  ASSERT_NE(neg, nullptr);
  EXPECT_EQ(Dump(neg->AllSeries().get()), (SeriesDump{{"{__name__=\"neg\"}", {{-1, 7}}}}));
}

TEST_F(ImportTest, OpenMetricsTimestampsAreSeconds) {
  auto blocks = ImportText(fs_,
                           "# TYPE jobs counter\n"
                           "jobs_total{k=\"v\"} 4 1000\n"
                           "jobs_total{k=\"v\"} 5 1001.5\n"
                           "# EOF\n",
                           data_, ImportOptions{});
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  ASSERT_EQ(blocks->size(), 1u);
  auto b = OpenBlock(1000000);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Dump(b->AllSeries().get()),
            (SeriesDump{{"{__name__=\"jobs_total\", k=\"v\"}", {{1000000, 4}, {1001500, 5}}}}));
}

TEST_F(ImportTest, ErrorsNameTheLine) {
  auto missing = ImportText(fs_, "a 1 1000\n# comment\nb{x=\"y\"} 2\n", data_, {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("line 3: sample without a timestamp"),
            absl::string_view::npos)
      << missing.status();
  EXPECT_NE(missing.status().message().find("b{x=\"y\"} 2"), absl::string_view::npos)
      << missing.status();

  auto bad = ImportText(fs_, "a 1 1000\na{b=\"c\" 1 1000\n", data_, {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("line 2"), absl::string_view::npos) << bad.status();

  auto conflict = ImportText(
      fs_, "x{a=\"1\"} 1 1000\nx{a=\"2\"} 1 1000\nx{a=\"1\"} 1 2000\nx{a=\"1\"} 9 1000\n", data_,
      {});
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(conflict.status().message());
  EXPECT_NE(msg.find("line 4: conflicting samples for series {__name__=\"x\", a=\"1\"} at "
                     "timestamp 1000: 1 and 9 (first at line 1)"),
            std::string::npos)
      << msg;

  auto empty = ImportText(fs_, "# nothing\n", data_, {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  // No block (and no temporary directory) was left behind by any failure.
  EXPECT_TRUE(BlockDirs().empty());
}

TEST_F(ImportTest, DbServesImportedSeries) {
  ASSERT_TRUE(ImportText(fs_, kText, data_, ImportOptions{}).ok());
  DbOptions o;
  o.background = false;
  auto db = DB::Open(data_, o);
  ASSERT_TRUE(db.ok()) << db.status();
  auto q = (*db)->NewQuerier(0, 10000000);
  ASSERT_TRUE(q.ok()) << q.status();
  auto m = Matcher::Create(MatchType::kEqual, "__name__", "up");
  ASSERT_TRUE(m.ok());
  auto set = (*q)->Select(0, 10000000, {*m});
  EXPECT_EQ(Dump(set.get()),
            (SeriesDump{{"{__name__=\"up\", job=\"a\"}", {{500, 1}, {7199999, 1}, {7200000, 0}}}}));
  q->reset();
  EXPECT_TRUE((*db)->Close().ok());
}

TEST_F(ImportTest, CommandLinePrintsBlocksAndPromtoolReadsThem) {
  std::string file = WriteFile("in.txt", kText);
  CairnctlResult r = RunCairnctl("import --prometheus-compatible-blocks " + file + " " + data_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(": [500, 7200000) 1970-01-01T00:00:00.5Z .. 1970-01-01T02:00:00Z "
                       "series=3 samples=6 chunks=3\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(": [7200000, 7200001) "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("imported 7 samples into 2 blocks"), std::string::npos) << r.out;

  CairnctlResult err = RunCairnctl("import " + WriteFile("bad.txt", "a 1\n") + " " + data_);
  EXPECT_EQ(err.exit_code, 1) << err.out;
  EXPECT_NE(err.out.find("line 1: sample without a timestamp"), std::string::npos) << err.out;
  EXPECT_EQ(RunCairnctl("import --block-duration=x " + file + " " + data_).exit_code, 2);
  EXPECT_EQ(RunCairnctl("import " + file).exit_code, 2);

  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  ASSERT_TRUE(fs_->CreateDirs(data_ + "/wal").ok());  // promtool's dump opens the WAL too
  std::string cmd = "/usr/bin/promtool tsdb dump " + data_ + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << out;
  // promtool dumps through a querier merged over the blocks: series in label order.
  EXPECT_EQ(out,
            "{__name__=\"http_requests_total\", code=\"200\", method=\"get\"} 1 1000\n"
            "{__name__=\"http_requests_total\", code=\"200\", method=\"get\"} 2 2000\n"
            "{__name__=\"http_requests_total\", code=\"200\", method=\"get\"} 3 3000\n"
            "{__name__=\"http_requests_total\", code=\"500\", method=\"get\"} 5 1500\n"
            "{__name__=\"up\", job=\"a\"} 1 500\n"
            "{__name__=\"up\", job=\"a\"} 1 7199999\n"
            "{__name__=\"up\", job=\"a\"} 0 7200000\n");
}

}  // namespace
}  // namespace cairn::tools
