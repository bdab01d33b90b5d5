#!/usr/bin/env bash
# t400-ingest-samples-answer-key.sh on PostGIS: the same checks, on SDIs in a PostgreSQL server this test starts on a Unix
# socket in its scratch folder and stops (skipped when PostgreSQL or PostGIS is missing).
CT_TEST_SDI=pg exec bash "$(dirname "$0")/t400-ingest-samples-answer-key.sh"
