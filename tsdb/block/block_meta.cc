#include "tsdb/block/block_meta.h"

#include "absl/strings/str_format.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "tsdb/block/ulid.h"
#include "tsdb/util/status_macros.h"

namespace cairn::block {

std::string EncodeBlockMeta(const BlockMeta& m) {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent('\t', 1);
  w.StartObject();
  w.Key("ulid");
  w.String(m.ulid.c_str());
  w.Key("minTime");
  w.Int64(m.min_time);
  w.Key("maxTime");
  w.Int64(m.max_time);
  w.Key("stats");
  w.StartObject();
  w.Key("numSamples");
  w.Uint64(m.num_samples);
  w.Key("numSeries");
  w.Uint64(m.num_series);
  w.Key("numChunks");
  w.Uint64(m.num_chunks);
  if (m.num_tombstones > 0) {
    w.Key("numTombstones");
    w.Uint64(m.num_tombstones);
  }
  w.EndObject();
  w.Key("compaction");
  w.StartObject();
  w.Key("level");
  w.Int(m.level);
  w.Key("sources");
  w.StartArray();
  for (const auto& s : m.sources) w.String(s.c_str());
  w.EndArray();
  if (!m.parents.empty()) {
    w.Key("parents");
    w.StartArray();
    for (const auto& p : m.parents) {
      w.StartObject();
      w.Key("ulid");
      w.String(p.ulid.c_str());
      w.Key("minTime");
      w.Int64(p.min_time);
      w.Key("maxTime");
      w.Int64(p.max_time);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("version");
  w.Int(1);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

absl::StatusOr<BlockMeta> DecodeBlockMeta(std::string_view json, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(absl::StrFormat("%s: %s", what, why));
  };
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  BlockMeta m;
  auto get_int = [&](const rapidjson::Value& obj, const char* key, int64_t* out) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsInt64()) return false;
    *out = it->value.GetInt64();
    return true;
  };
  auto version = d.FindMember("version");
  if (version == d.MemberEnd() || !version->value.IsInt() || version->value.GetInt() != 1) {
    return bad("unsupported or missing version");
  }
  auto ulid = d.FindMember("ulid");
  if (ulid == d.MemberEnd() || !ulid->value.IsString() || !IsUlid(ulid->value.GetString())) {
    return bad("missing or invalid ulid");
  }
  m.ulid = ulid->value.GetString();
  if (!get_int(d, "minTime", &m.min_time) || !get_int(d, "maxTime", &m.max_time) ||
      m.max_time < m.min_time) {
    return bad("missing or invalid minTime/maxTime");
  }
  auto stats = d.FindMember("stats");
  if (stats != d.MemberEnd() && stats->value.IsObject()) {
    int64_t v;
    if (get_int(stats->value, "numSamples", &v)) m.num_samples = v;
    if (get_int(stats->value, "numSeries", &v)) m.num_series = v;
    if (get_int(stats->value, "numChunks", &v)) m.num_chunks = v;
    if (get_int(stats->value, "numTombstones", &v)) m.num_tombstones = v;
  }
  auto comp = d.FindMember("compaction");
  if (comp != d.MemberEnd() && comp->value.IsObject()) {
    int64_t level;
    if (get_int(comp->value, "level", &level)) m.level = static_cast<int>(level);
    auto sources = comp->value.FindMember("sources");
    if (sources != comp->value.MemberEnd() && sources->value.IsArray()) {
      for (const auto& s : sources->value.GetArray()) {
        if (!s.IsString()) return bad("invalid compaction.sources");
        m.sources.push_back(s.GetString());
      }
    }
    auto parents = comp->value.FindMember("parents");
    if (parents != comp->value.MemberEnd() && parents->value.IsArray()) {
      for (const auto& p : parents->value.GetArray()) {
        if (!p.IsObject()) return bad("invalid compaction.parents");
        BlockParent bp;
        auto u = p.FindMember("ulid");
        if (u == p.MemberEnd() || !u->value.IsString()) return bad("invalid compaction.parents");
        bp.ulid = u->value.GetString();
        get_int(p, "minTime", &bp.min_time);
        get_int(p, "maxTime", &bp.max_time);
        m.parents.push_back(bp);
      }
    }
  }
  return m;
}

absl::Status WriteBlockMeta(io::FileSystem* fs, const std::string& dir, const BlockMeta& meta) {
  std::string tmp = dir + "/" + std::string(kMetaFileName) + ".tmp";
  CAIRN_ASSIGN_OR_RETURN(auto f, fs->NewWritableFile(tmp));
  CAIRN_RETURN_IF_ERROR(f->Append(EncodeBlockMeta(meta)));
  CAIRN_RETURN_IF_ERROR(f->Sync());
  CAIRN_RETURN_IF_ERROR(f->Close());
  CAIRN_RETURN_IF_ERROR(fs->Rename(tmp, dir + "/" + std::string(kMetaFileName)));
  return fs->SyncDir(dir);
}

absl::StatusOr<BlockMeta> ReadBlockMeta(io::FileSystem* fs, const std::string& dir) {
  std::string path = dir + "/" + std::string(kMetaFileName);
  CAIRN_ASSIGN_OR_RETURN(std::string json, fs->ReadFile(path));
  return DecodeBlockMeta(json, path);
}

}  // namespace cairn::block
