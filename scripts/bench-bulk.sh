#!/usr/bin/env bash
# Bulk writer throughput into an instant-acknowledging endpoint (all items
# 201) on loopback. Prints docs/s and peak RSS.
#   scripts/bench-bulk.sh            one timed run of 1,000,000 documents
#   scripts/bench-bulk.sh criterion  the criterion benchmark (200k docs/iter)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "criterion" ]]; then
  exec cargo bench --bench bulk_writer
fi
BENCH_ONESHOT="${BENCH_DOCS:-1000000}" cargo bench --bench bulk_writer
