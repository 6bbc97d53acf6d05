#include <stdlib.h>

#include <random>

#include "gtest/gtest.h"
#include "tsdb/index/index_format.h"
#include "tsdb/index/index_reader.h"
#include "tsdb/index/index_writer.h"
#include "tsdb/util/coding.h"
#include "tsdb/util/crc32c.h"

namespace cairn::index {
namespace {

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_index_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/index";
  }
  void TearDown() override { ASSERT_TRUE(fs_->RemoveAll(dir_).ok()); }

  // Writes `n` series job=j<i%3>, instance=i<i> with two chunks each.
  void WriteSample(int n) {
    auto w = IndexWriter::Create(fs_, path_);
    ASSERT_TRUE(w.ok());
    std::vector<Labels> all;
    for (int i = 0; i < n; ++i) {
      all.push_back(Labels{{"__name__", "up"},
                           {"instance", "i" + std::to_string(1000 + i)},
                           {"job", "j" + std::to_string(i % 3)}});
    }
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i < all.size(); ++i) {
      std::vector<ChunkMeta> c = {{100, 200, 8 + 100 * i}, {201, 300, 8 + 100 * i + 50}};
      ASSERT_TRUE((*w)->AddSeries(all[i], c).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
    series_ = all;
  }

  std::unique_ptr<IndexReader> OpenReader() {
    auto d = fs_->ReadFile(path_);
    EXPECT_TRUE(d.ok());
    data_ = *d;
    auto r = IndexReader::Open(data_, path_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  std::vector<Labels> Select(IndexReader* r, const std::vector<Matcher>& ms) {
    auto p = r->PostingsForMatchers(ms);
    EXPECT_TRUE(p.ok()) << p.status();
    std::vector<Labels> out;
    Labels l;
    std::vector<ChunkMeta> c;
    while ((*p)->Next()) {
      EXPECT_TRUE(r->Series((*p)->At(), &l, &c).ok());
      if (MatchesAll(ms, l)) out.push_back(l);
    }
    EXPECT_TRUE((*p)->status().ok());
    return out;
  }

  io::FileSystem* fs_ = io::FileSystem::Default();
  std::string dir_, path_, data_;
  std::vector<Labels> series_;
};

// The leading bytes of a one-series index, derived by hand from docs/format/index.md.
TEST_F(IndexTest, LayoutOfTinyIndexMatchesTheDocumentedFormat) {
  auto w = IndexWriter::Create(fs_, path_);
  ASSERT_TRUE(w.ok());
  std::vector<ChunkMeta> c = {{1000, 2000, 8}};
  ASSERT_TRUE((*w)->AddSeries(Labels{{"a", "b"}}, c).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  auto d = fs_->ReadFile(path_);
  ASSERT_TRUE(d.ok());
  const std::string& f = *d;
  std::string want_head = {'\xba', '\xaa', '\xd7', '\x00', '\x02',  // magic, version
                           0,      0,      0,      8,               // symbol table len
                           0,      0,      0,      2,               // #symbols
                           1,      'a',    1,      'b'};
  ASSERT_GE(f.size(), want_head.size() + 4);
  EXPECT_EQ(f.substr(0, want_head.size()), want_head);
  EXPECT_EQ(DecodeBigEndian32(f.data() + 17), crc32c::Value(f.data() + 9, 8));
  // Series section starts at the next multiple of 16 (21 -> 32): entry length, then
  // 1 label (symbols 0 and 1), 1 chunk: mint zigzag(1000)=2000, span 1000, ref 8.
  std::string entry = {1, 0, 1, 1, '\xd0', '\x0f', '\xe8', '\x07', 8};
  EXPECT_EQ(f[32], static_cast<char>(entry.size()));
  EXPECT_EQ(f.substr(33, entry.size()), entry);
  // The TOC's series offset points there.
  std::string_view toc = std::string_view(f).substr(f.size() - kTocSize);
  EXPECT_EQ(DecodeBigEndian64(toc.data() + 8), 32u);
}

TEST_F(IndexTest, RoundTripSeriesAndPostings) {
  WriteSample(30);
  auto r = OpenReader();
  ASSERT_NE(r, nullptr);
  // Every series via all-postings, in label order, with its chunks.
  auto all = r->AllPostings();
  Labels l;
  std::vector<ChunkMeta> c;
  size_t i = 0;
  while (all->Next()) {
    ASSERT_TRUE(r->Series(all->At(), &l, &c).ok());
    ASSERT_LT(i, series_.size());
    EXPECT_EQ(l, series_[i]);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0], (ChunkMeta{100, 200, 8 + 100 * i}));
    EXPECT_EQ(c[1], (ChunkMeta{201, 300, 8 + 100 * i + 50}));
    ++i;
  }
  EXPECT_EQ(i, 30u);
  EXPECT_EQ(r->LabelNames(), (std::vector<std::string_view>{"__name__", "instance", "job"}));
  EXPECT_EQ(r->LabelValues("job"), (std::vector<std::string_view>{"j0", "j1", "j2"}));
  EXPECT_TRUE(r->Verify().ok());

  auto m = [](MatchType t, std::string n, std::string v) { return *Matcher::Create(t, n, v); };
  EXPECT_EQ(Select(r.get(), {m(MatchType::kEqual, "job", "j1")}).size(), 10u);
  EXPECT_EQ(Select(r.get(), {m(MatchType::kRegexMatch, "job", "j1|j2")}).size(), 20u);
  EXPECT_EQ(Select(r.get(), {m(MatchType::kRegexMatch, "job", "j[01]"),
                             m(MatchType::kNotEqual, "job", "j0")})
                .size(),
            10u);
  auto one = Select(
      r.get(), {m(MatchType::kEqual, "instance", "i1004"), m(MatchType::kEqual, "__name__", "up")});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].Get("job"), "j1");
  EXPECT_TRUE(Select(r.get(), {m(MatchType::kEqual, "job", "nope")}).empty());
  EXPECT_FALSE(r->PostingsForMatchers({m(MatchType::kEqual, "job", "")}).ok());
}

TEST_F(IndexTest, RejectsOutOfOrderSeries) {
  auto w = IndexWriter::Create(fs_, path_);
  ASSERT_TRUE(w.ok());
  std::vector<ChunkMeta> c = {{1, 2, 8}};
  ASSERT_TRUE((*w)->AddSeries(Labels{{"a", "2"}}, c).ok());
  EXPECT_FALSE((*w)->AddSeries(Labels{{"a", "1"}}, c).ok());
  EXPECT_FALSE((*w)->AddSeries(Labels{{"a", "2"}}, c).ok());
}

// Flipping any single byte must give an error somewhere (open, series, postings,
// verify) or leave the data readable — never a crash, and never a wrong answer
// without an error for a byte covered by a checksum.
TEST_F(IndexTest, EveryFlippedByteIsDetectedOrHarmless) {
  WriteSample(5);
  auto d = fs_->ReadFile(path_);
  ASSERT_TRUE(d.ok());
  const std::string orig = *d;
  int detected = 0;
  for (size_t pos = 0; pos < orig.size(); ++pos) {
    std::string bad = orig;
    bad[pos] ^= 0x5a;
    auto r = IndexReader::Open(bad, "flipped");
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << pos;
      ++detected;
      continue;
    }
    if (!(*r)->Verify().ok()) {
      ++detected;
      continue;
    }
    // Undetected flips may only hit padding bytes: the reader still gives the
    // original series.
    auto all = (*r)->AllPostings();
    Labels l;
    std::vector<ChunkMeta> c;
    size_t i = 0;
    while (all->Next()) {
      ASSERT_TRUE((*r)->Series(all->At(), &l, &c).ok());
      EXPECT_EQ(l, series_[i++]) << "undetected flip at " << pos;
    }
    EXPECT_EQ(i, series_.size()) << "undetected flip at " << pos;
  }
  // Only alignment padding between series entries is unchecked.
  EXPECT_GT(detected, static_cast<int>(orig.size() * 3 / 4));
}

// A series entry whose length prefix is close to 2^64 (found by index_reader_fuzzer):
// the bounds check must not wrap around and send the CRC read far past the file.
TEST_F(IndexTest, HugeSeriesEntryLengthIsCorruptionNotAWildRead) {
  WriteSample(3);
  auto r = OpenReader();
  ASSERT_NE(r, nullptr);
  auto all = r->AllPostings();
  ASSERT_TRUE(all->Next());
  const uint64_t ref = all->At();
  std::string bad = data_;
  const size_t offset = ref * 16;  // series entries are 16-byte aligned (docs/format/index.md)
  // Ten-byte varint of 2^64 - 3 over the entry's length and first bytes.
  const unsigned char huge[10] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  ASSERT_LT(offset + sizeof(huge), bad.size());
  bad.replace(offset, sizeof(huge), reinterpret_cast<const char*>(huge), sizeof(huge));
  auto reader = IndexReader::Open(bad, "huge-length");
  ASSERT_TRUE(reader.ok()) << reader.status();  // series entries are checked when read
  Labels l;
  std::vector<ChunkMeta> c;
  absl::Status s = (*reader)->Series(ref, &l, &c);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("series entry"), absl::string_view::npos) << s;
  // Refused for its length, before any checksum is read from where the length points.
  EXPECT_EQ(s.message().find("checksum"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace cairn::index
