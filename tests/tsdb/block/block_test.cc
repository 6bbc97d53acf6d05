#include "tsdb/block/block.h"

#include <stdio.h>
#include <stdlib.h>

#include <map>
#include <random>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tsdb/block/block_writer.h"
#include "tsdb/block/ulid.h"
#include "tsdb/chunk/packed_chunk.h"
#include "tsdb/util/coding.h"

namespace cairn::block {
namespace {

class BlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_block_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(fs_->RemoveAll(root_).ok()); }

  // Series metric{job=j<i%4>, i=<i>} with samples every 15 s over [0, 2h) holding
  // i * 1000 + k, in chunks of 120; returns the block dir.
  std::string WriteBlock(int num_series, std::map<Labels, std::vector<Sample>>* truth,
                         BlockWriterOptions options = {}) {
    std::string ulid = NewUlid(1000);
    std::string tmp = root_ + "/" + ulid + ".tmp-for-creation";
    auto w = BlockWriter::Create(fs_, tmp, options);
    EXPECT_TRUE(w.ok()) << w.status();
    for (int i = 0; i < num_series; ++i) {
      Labels l{{"__name__", "metric"},
               {"i", absl::StrFormat("%04d", i)},
               {"job", "j" + std::to_string(i % 4)}};
      for (int k = 0; k < 480; ++k) (*truth)[l].push_back(Sample{k * 15000LL, i * 1000.0 + k});
    }
    for (const auto& [l, samples] : *truth) {
      std::vector<std::vector<Sample>> chunks;
      for (size_t k = 0; k < samples.size(); k += 120) {
        chunks.emplace_back(samples.begin() + k,
                            samples.begin() + std::min(samples.size(), k + 120));
      }
      EXPECT_TRUE((*w)->AddSeriesSamples(l, chunks).ok());
    }
    return FinishBlock(w->get(), ulid, 480 * 15000);
  }

  // Finishes a block over [0, max_time) written to <root>/<ulid>.tmp-for-creation and
  // commits it; returns its dir.
  std::string FinishBlock(BlockWriter* w, const std::string& ulid, int64_t max_time) {
    BlockMeta meta;
    meta.ulid = ulid;
    meta.min_time = 0;
    meta.max_time = max_time;
    meta.sources = {ulid};
    EXPECT_TRUE(w->Finish(meta).ok());
    const std::string dir = root_ + "/" + ulid;
    EXPECT_TRUE(CommitBlockDir(fs_, dir + ".tmp-for-creation", dir).ok());
    return dir;
  }

  static std::vector<Sample> Drain(SampleIterator* it) {
    std::vector<Sample> out;
    while (it->Next()) out.push_back({it->t(), it->v()});
    EXPECT_TRUE(it->status().ok()) << it->status();
    return out;
  }

  // As the query engine reads: NextBatch in batches of `batch`.
  static std::vector<Sample> DrainBatched(SampleIterator* it, size_t batch) {
    std::vector<Sample> out, buf(batch);
    size_t k;
    do {
      k = it->NextBatch(buf.data(), batch);
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(k));
    } while (k == batch);
    EXPECT_TRUE(it->status().ok()) << it->status();
    return out;
  }

  io::FileSystem* fs_ = io::FileSystem::Default();
  std::string root_;
};

TEST(UlidTest, EncodesCrockfordBase32AndSortsByTime) {
  EXPECT_EQ(EncodeUlid(0, 0), "00000000000000000000000000");
  EXPECT_EQ(EncodeUlid(0, 31), "0000000000000000000000000Z");
  EXPECT_EQ(EncodeUlid(~0ull, ~0ull), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_TRUE(IsUlid(NewUlid(1700000000000)));
  EXPECT_FALSE(IsUlid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));
  EXPECT_FALSE(IsUlid("0000000000000000000000000U"));  // U is not in the alphabet
  EXPECT_LT(NewUlid(1700000000000), NewUlid(1700000000001));
}

TEST(BlockMetaTest, RoundTripAndPrometheusShape) {
  BlockMeta m;
  m.ulid = NewUlid(5);
  m.min_time = 10;
  m.max_time = 20;
  m.num_samples = 3;
  m.num_series = 2;
  m.num_chunks = 1;
  m.level = 2;
  m.sources = {"01AAAAAAAAAAAAAAAAAAAAAAAA", "01BBBBBBBBBBBBBBBBBBBBBBBB"};
  m.parents = {{"01AAAAAAAAAAAAAAAAAAAAAAAA", 10, 15}};
  std::string json = EncodeBlockMeta(m);
  EXPECT_NE(json.find("\"minTime\": 10"), std::string::npos) << json;
  EXPECT_NE(json.find("\"numSamples\": 3"), std::string::npos) << json;
  EXPECT_NE(json.find("\"version\": 1"), std::string::npos) << json;
  auto back = DecodeBlockMeta(json, "x");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  EXPECT_FALSE(DecodeBlockMeta("{", "x").ok());
  EXPECT_FALSE(DecodeBlockMeta(R"({"ulid":"bad","minTime":1,"maxTime":2,"version":1})", "x").ok());
}

class BlockSelectTest : public BlockTest, public ::testing::WithParamInterface<bool> {};

// Both chunk encodings (packed decimal, and XOR only as Prometheus writes).
TEST_P(BlockSelectTest, SelectMatchesWhatWasWritten) {
  BlockWriterOptions options{.packed_chunks = GetParam()};
  std::map<Labels, std::vector<Sample>> truth;
  std::string dir = WriteBlock(40, &truth, options);
  auto b = Block::Open(fs_, dir);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->meta().num_series, 40u);
  EXPECT_EQ((*b)->meta().num_samples, 40u * 480);
  EXPECT_EQ((*b)->meta().num_chunks, 40u * 4);
  EXPECT_TRUE((*b)->Verify().ok());

  auto q = (*b)->NewQuerier(kMinTimeMs, kMaxTimeMs);
  auto job1 = *Matcher::Create(MatchType::kEqual, "job", "j1");
  auto set = q->Select(1000000, 2000000, {job1});
  int n = 0;
  Labels prev;
  while (set->Next()) {
    const Labels& l = set->At().labels();
    EXPECT_EQ(l.Get("job"), "j1");
    if (n > 0) {
      EXPECT_LT(prev, l);
    }
    prev = l;
    std::vector<Sample> want;
    for (const Sample& s : truth[l]) {
      if (s.t >= 1000000 && s.t <= 2000000) want.push_back(s);
    }
    auto it = set->At().Iterator();
    EXPECT_EQ(Drain(it.get()), want) << l.ToString();
    ++n;
  }
  EXPECT_TRUE(set->status().ok());
  EXPECT_EQ(n, 10);

  // Batched reads clip to the range the same way, across chunk boundaries, for ranges
  // starting and ending inside, on and outside chunks.
  auto i5 = *Matcher::Create(MatchType::kEqual, "i", "0005");
  for (auto [mint, maxt] : std::vector<std::pair<int64_t, int64_t>>{{kMinTimeMs, kMaxTimeMs},
                                                                    {1, 1799999},
                                                                    {1800000, 1800000},
                                                                    {15000 * 119, 15000 * 361},
                                                                    {7000000, kMaxTimeMs},
                                                                    {-5, 0}}) {
    for (size_t batch : {1, 7, 120, 1000}) {
      auto bs = q->Select(mint, maxt, {i5});
      ASSERT_TRUE(bs->Next());
      std::vector<Sample> want;
      for (const Sample& s : truth[bs->At().labels()]) {
        if (s.t >= mint && s.t <= maxt) want.push_back(s);
      }
      auto it = bs->At().Iterator();
      EXPECT_EQ(DrainBatched(it.get(), batch), want)
          << "[" << mint << ", " << maxt << "] batch " << batch;
    }
  }

  // Seek across chunk boundaries and never backwards.
  auto one = q->Select(kMinTimeMs, kMaxTimeMs, {*Matcher::Create(MatchType::kEqual, "i", "0007")});
  ASSERT_TRUE(one->Next());
  auto it = one->At().Iterator();
  ASSERT_TRUE(it->Seek(120 * 15000 + 1));  // inside the second chunk
  EXPECT_EQ(it->t(), 121 * 15000);
  EXPECT_EQ(it->v(), 7000.0 + 121);
  ASSERT_TRUE(it->Seek(5));  // behind: stays
  EXPECT_EQ(it->t(), 121 * 15000);
  ASSERT_TRUE(it->Seek(479 * 15000));
  EXPECT_EQ(it->v(), 7000.0 + 479);
  EXPECT_FALSE(it->Seek(480 * 15000));
  EXPECT_FALSE(one->Next());

  auto names = q->LabelNames({});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "i", "job"}));
  auto values = q->LabelValues("job", {job1});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"j1"}));

  // A querier range outside the block yields nothing.
  auto none = (*b)->NewQuerier(480 * 15000, kMaxTimeMs)->Select(kMinTimeMs, kMaxTimeMs, {job1});
  EXPECT_FALSE(none->Next());
}

INSTANTIATE_TEST_SUITE_P(Encodings, BlockSelectTest, ::testing::Bool());

TEST_F(BlockTest, CorruptChunkIsReportedNotReturned) {
  std::map<Labels, std::vector<Sample>> truth;
  std::string dir = WriteBlock(4, &truth);
  std::string seg = dir + "/chunks/000001";
  auto data = fs_->ReadFile(seg);
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[bad.size() / 2] ^= 0x10;
  {
    auto f = fs_->NewWritableFile(seg);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(bad).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  auto b = Block::Open(fs_, dir);
  ASSERT_TRUE(b.ok()) << b.status();
  absl::Status v = (*b)->Verify();
  EXPECT_EQ(v.code(), absl::StatusCode::kDataLoss) << v;
  EXPECT_NE(v.message().find("checksum"), absl::string_view::npos) << v;
  // Reading through a querier surfaces the same error on the damaged series.
  auto set = (*b)->NewQuerier(kMinTimeMs, kMaxTimeMs)
                 ->Select(kMinTimeMs, kMaxTimeMs,
                          {*Matcher::Create(MatchType::kEqual, "__name__", "metric")});
  bool saw_error = false;
  while (set->Next()) {
    auto it = set->At().Iterator();
    while (it->Next()) {
    }
    saw_error |= !it->status().ok();
  }
  EXPECT_TRUE(saw_error);
}

TEST_F(BlockTest, MissingOrDamagedFilesFailOpen) {
  std::map<Labels, std::vector<Sample>> truth;
  std::string dir = WriteBlock(2, &truth);
  ASSERT_TRUE(fs_->RemoveFile(dir + "/meta.json").ok());
  EXPECT_FALSE(Block::Open(fs_, dir).ok());
  truth.clear();
  std::string dir2 = WriteBlock(2, &truth);
  ASSERT_TRUE(fs_->Truncate(dir2 + "/index", 10).ok());
  auto b = Block::Open(fs_, dir2);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kDataLoss);
}

// Every chunk's encoding in a block, through its index.
std::vector<ChunkEncoding> ChunkEncodings(const Block& b) {
  std::vector<ChunkEncoding> out;
  auto postings = b.index().AllPostings();
  while (postings->Next()) {
    Labels labels;
    std::vector<index::ChunkMeta> metas;
    EXPECT_TRUE(b.index().Series(postings->At(), &labels, &metas).ok());
    for (const index::ChunkMeta& m : metas) {
      ChunkEncoding enc;
      EXPECT_TRUE(b.chunks().Chunk(m.ref, &enc).ok());
      out.push_back(enc);
    }
  }
  return out;
}

// The head hands packed chunks to the writer; Prometheus-compatible blocks get them
// re-encoded as XOR (Prometheus' tools know no other encoding), and default blocks
// keep them packed. Both hold the same samples.
TEST_F(BlockTest, PackedInputChunksFollowTheBlockEncodingOption) {
  std::vector<Sample> samples;
  for (int k = 0; k < 120; ++k) samples.push_back({k * 15000LL + k % 3, 1000.0 + 7 * k});
  const std::string packed = *EncodePackedChunk(samples);
  const Labels labels{{"__name__", "m"}};
  for (bool compatible : {true, false}) {
    const std::string ulid = NewUlid(compatible ? 2000 : 3000);
    const std::string tmp = root_ + "/" + ulid + ".tmp-for-creation";
    auto w = BlockWriter::Create(fs_, tmp, BlockWriterOptions{.packed_chunks = !compatible});
    ASSERT_TRUE(w.ok()) << w.status();
    EncodedChunk c{samples.front().t, samples.back().t, 120, packed, ChunkEncoding::kPacked};
    ASSERT_TRUE((*w)->AddSeries(labels, {c}).ok());
    auto b = Block::Open(fs_, FinishBlock(w->get(), ulid, 120 * 15000));
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(ChunkEncodings(**b), std::vector<ChunkEncoding>{compatible ? ChunkEncoding::kXor
                                                                         : ChunkEncoding::kPacked});
    auto set = (*b)->AllSeries();
    ASSERT_TRUE(set->Next());
    auto it = set->At().Iterator(nullptr);
    EXPECT_EQ(Drain(it.get()), samples) << "compatible " << compatible;
  }
}

// Prometheus' own tool reads a Cairn block: the on-disk format is Prometheus'.
TEST_F(BlockTest, PromtoolDumpsCairnBlocks) {
  if (system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  std::map<Labels, std::vector<Sample>> truth;
  WriteBlock(3, &truth, BlockWriterOptions{.packed_chunks = false});
  ASSERT_TRUE(fs_->CreateDirs(root_ + "/wal").ok());  // promtool opens the WAL too
  std::string cmd = "promtool tsdb dump " + root_ + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  // One line per sample: {labels} value timestamp.
  size_t lines = std::count(out.begin(), out.end(), '\n');
  EXPECT_EQ(lines, 3u * 480) << out.substr(0, 2000);
  EXPECT_NE(out.find(R"({__name__="metric", i="0002", job="j2"} 2479 7185000)"), std::string::npos)
      << out.substr(0, 2000);
}

}  // namespace
}  // namespace cairn::block
