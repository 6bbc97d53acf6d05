// WriteRequestView against libprotobuf as the reference: every message protobuf
// serializes must parse to the same content, and on damaged bytes both must agree on
// whether the input is a WriteRequest at all.
#include "server/write_request_view.h"

#include <bit>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "gtest/gtest.h"
#include "proto/prometheus/remote.pb.h"

namespace cairn::server {
namespace {

std::string RandomText(std::mt19937_64& rng, bool allow_invalid_utf8) {
  static const char* const kPieces[] = {
      "a", "job",  "__name__",
      "é", "日本", "🙂",
      "-", " ",    "very_long_label_value_over_sso_length_0123456789"};
  std::string s;
  const int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) s += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
  if (allow_invalid_utf8 && rng() % 4 == 0) {
    s.insert(s.begin() + static_cast<ptrdiff_t>(rng() % (s.size() + 1)),
             static_cast<char>(0x80 + rng() % 0x80));
  }
  return s;
}

// `skipped_fields` adds exemplars and metadata, which the view skips unread.
prometheus::WriteRequest RandomRequest(std::mt19937_64& rng, bool allow_invalid_utf8,
                                       bool skipped_fields = true) {
  prometheus::WriteRequest req;
  const int series = static_cast<int>(rng() % 5);
  for (int i = 0; i < series; ++i) {
    auto* ts = req.add_timeseries();
    const int labels = static_cast<int>(rng() % 5);
    for (int j = 0; j < labels; ++j) {
      auto* l = ts->add_labels();
      l->set_name(RandomText(rng, allow_invalid_utf8));
      l->set_value(RandomText(rng, allow_invalid_utf8));
    }
    const int samples = static_cast<int>(rng() % 5);
    for (int j = 0; j < samples; ++j) {
      auto* s = ts->add_samples();
      s->set_timestamp(static_cast<int64_t>(rng()) >> (rng() % 64));
      s->set_value(std::bit_cast<double>(rng()));
    }
    if (skipped_fields && rng() % 3 == 0) {  // an exemplar: a field the view skips
      auto* e = ts->add_exemplars();
      e->add_labels()->set_name("trace_id");
      e->set_value(1.5);
      e->set_timestamp(7);
    }
  }
  if (skipped_fields && rng() % 3 == 0) {  // metadata: skipped too
    auto* m = req.add_metadata();
    m->set_metric_family_name("up");
    m->set_help("help text");
  }
  return req;
}

// Expects `view` to hold exactly the series, labels and samples of `msg`.
void ExpectSameContent(const prometheus::WriteRequest& msg, const WriteRequestView& view) {
  ASSERT_EQ(view.num_series(), static_cast<size_t>(msg.timeseries_size()));
  for (int i = 0; i < msg.timeseries_size(); ++i) {
    const auto& ts = msg.timeseries(i);
    auto labels = view.labels(i);
    ASSERT_EQ(labels.size(), static_cast<size_t>(ts.labels_size())) << "series " << i;
    for (int j = 0; j < ts.labels_size(); ++j) {
      EXPECT_EQ(labels[j].name, ts.labels(j).name());
      EXPECT_EQ(labels[j].value, ts.labels(j).value());
    }
    auto samples = view.samples(i);
    ASSERT_EQ(samples.size(), static_cast<size_t>(ts.samples_size())) << "series " << i;
    for (int j = 0; j < ts.samples_size(); ++j) {
      EXPECT_EQ(samples[j].t, ts.samples(j).timestamp());
      EXPECT_EQ(std::bit_cast<uint64_t>(samples[j].v),
                std::bit_cast<uint64_t>(ts.samples(j).value()));
    }
  }
}

TEST(WriteRequestViewTest, ParsesWhatProtobufSerializes) {
  std::mt19937_64 rng(1);
  WriteRequestView view;  // reused, as the server does
  for (int iter = 0; iter < 2000; ++iter) {
    prometheus::WriteRequest req = RandomRequest(rng, /*allow_invalid_utf8=*/false);
    std::string wire = req.SerializeAsString();
    ASSERT_TRUE(view.Parse(wire, {}).ok()) << "iteration " << iter;
    ExpectSameContent(req, view);
    WriteRequestView from_message;
    from_message.FromMessage(req);
    ExpectSameContent(req, from_message);
  }
}

// The reference for damaged input: the four messages with only the fields the view
// reads, as proto3 (strings must be UTF-8), parsed by protobuf's reflection parser.
// Everything else is an unknown field to both.
class ReducedSchema {
 public:
  ReducedSchema() {
    google::protobuf::FileDescriptorProto file;
    file.set_name("reduced_remote.proto");
    file.set_package("reduced");
    file.set_syntax("proto3");
    auto add = [&](const char* msg,
                   std::vector<std::tuple<const char*, int, int, const char*>> fs) {
      auto* m = file.add_message_type();
      m->set_name(msg);
      for (auto [name, number, type, type_name] : fs) {
        auto* f = m->add_field();
        f->set_name(name);
        f->set_number(number);
        f->set_type(static_cast<google::protobuf::FieldDescriptorProto::Type>(type));
        f->set_label(type_name != nullptr ? google::protobuf::FieldDescriptorProto::LABEL_REPEATED
                                          : google::protobuf::FieldDescriptorProto::LABEL_OPTIONAL);
        if (type_name != nullptr) f->set_type_name(type_name);
      }
    };
    using F = google::protobuf::FieldDescriptorProto;
    add("Label", {{"name", 1, F::TYPE_STRING, nullptr}, {"value", 2, F::TYPE_STRING, nullptr}});
    add("Sample",
        {{"value", 1, F::TYPE_DOUBLE, nullptr}, {"timestamp", 2, F::TYPE_INT64, nullptr}});
    add("TimeSeries", {{"labels", 1, F::TYPE_MESSAGE, ".reduced.Label"},
                       {"samples", 2, F::TYPE_MESSAGE, ".reduced.Sample"}});
    add("WriteRequest", {{"timeseries", 1, F::TYPE_MESSAGE, ".reduced.TimeSeries"}});
    file_ = pool_.BuildFile(file);
    prototype_ = factory_.GetPrototype(file_->FindMessageTypeByName("WriteRequest"));
  }
  // Parses `wire`; on success converts it to a prometheus::WriteRequest.
  bool Parse(const std::string& wire, prometheus::WriteRequest* out) {
    std::unique_ptr<google::protobuf::Message> m(prototype_->New());
    if (!m->ParseFromString(wire)) return false;
    // Same field numbers and types: re-serialising the known fields gives bytes the
    // generated WriteRequest parses into the same content.
    m->DiscardUnknownFields();
    return out->ParseFromString(m->SerializeAsString());
  }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  const google::protobuf::FileDescriptor* file_ = nullptr;
  const google::protobuf::Message* prototype_ = nullptr;
};

// Truncated, bit-flipped and invalid-UTF-8 inputs: the view accepts exactly what
// protobuf accepts for the fields the view reads, and then with the same content.
// (Protobuf's generated parser also decodes exemplars and metadata, and refuses
// invalid UTF-8 inside them; the view skips them unread, as Prometheus' decoder does
// not check UTF-8 at all.)
TEST(WriteRequestViewTest, AgreesWithProtobufOnDamagedInput) {
  std::mt19937_64 rng(2);
  ReducedSchema reduced;
  WriteRequestView view;
  int rejected = 0, accepted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    prometheus::WriteRequest req = RandomRequest(rng, /*allow_invalid_utf8=*/true);
    std::string wire = req.SerializeAsString();
    if (!wire.empty()) {
      switch (rng() % 3) {
        case 0:
          wire.resize(rng() % wire.size());
          break;
        case 1:
          wire[rng() % wire.size()] ^= static_cast<char>(1 << (rng() % 8));
          break;
        default:
          break;
      }
    }
    prometheus::WriteRequest reference;
    const bool want = reduced.Parse(wire, &reference);
    const absl::Status got_status = view.Parse(wire, {});
    const bool got = got_status.ok();
    ASSERT_EQ(got, want) << "iteration " << iter << ": " << got_status << " wire " << [&] {
      std::string hex;
      for (unsigned char c : wire) hex += absl::StrFormat("%02x", c);
      return hex;
    }();
    if (got) {
      ExpectSameContent(reference, view);
      ++accepted;
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
}

TEST(WriteRequestViewTest, LimitsStopParsing) {
  prometheus::WriteRequest req;
  for (int i = 0; i < 5; ++i) {
    auto* ts = req.add_timeseries();
    ts->add_labels()->set_name("__name__");
    ts->add_labels()->set_name("a");
    ts->add_samples()->set_timestamp(i);
  }
  const std::string wire = req.SerializeAsString();
  WriteRequestView view;
  WriteRequestView::Limits l;
  l.max_series = 3;
  EXPECT_EQ(view.Parse(wire, l).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(view.limit_hit(), WriteRequestView::LimitHit::kSeries);
  EXPECT_EQ(view.num_series(), 3u);
  l = {};
  l.max_samples = 4;
  EXPECT_EQ(view.Parse(wire, l).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(view.limit_hit(), WriteRequestView::LimitHit::kSamples);
  l = {};
  l.max_labels_per_series = 1;
  EXPECT_EQ(view.Parse(wire, l).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(view.limit_hit(), WriteRequestView::LimitHit::kLabelsPerSeries);
  l.max_labels_per_series = 2;
  EXPECT_TRUE(view.Parse(wire, l).ok());
  EXPECT_EQ(view.limit_hit(), WriteRequestView::LimitHit::kNone);
}

TEST(WriteRequestViewTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii text, longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("é日本🙂\xf4\x8f\xbf\xbf"));  // U+10FFFF is the last valid
  EXPECT_FALSE(IsValidUtf8("\x80"));                         // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                     // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));                 // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                 // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));             // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abcdefgh\xe6\x97"));             // truncated after an ASCII run
}

}  // namespace
}  // namespace cairn::server
