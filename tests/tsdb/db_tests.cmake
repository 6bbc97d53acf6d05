# Tests of the root DB (tsdb/db.h) are added here once the head has its WAL.
