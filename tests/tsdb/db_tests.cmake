# Tests of the root DB (tsdb/db.h).
cairn_cc_test(NAME db_crash_test SRCS db_crash_test.cc DEPS cairn_tsdb TIMEOUT 600)
cairn_cc_test(NAME db_test SRCS db_test.cc DEPS cairn_tsdb)
cairn_cc_test(NAME db_admin_test SRCS db_admin_test.cc DEPS cairn_tsdb)
