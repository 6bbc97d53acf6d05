#The root DB library : head + blocks + compaction behind one object(tsdb / db.h).
cairn_cc_library(NAME cairn_tsdb SRCS db.cc DEPS cairn_head cairn_block cairn_compact cairn_storage
                     cairn_io cairn_util absl::synchronization absl::time)
