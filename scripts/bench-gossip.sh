#!/usr/bin/env bash
# bench-gossip.sh: failure detection and broadcast times of vigil's gossip for 3, 10 and 30 nodes,
# in simulated time on the in-memory network (deterministic per seed, needs no network), printed
# next to memberlist's defaults. See docs/gossip.md.
#
#   scripts/bench-gossip.sh            # 20 runs per size, no packet loss
#   scripts/bench-gossip.sh 50 0.1     # 50 runs per size, 10 % packet loss
set -euo pipefail
cd "$(dirname "$0")/.."
exec node_modules/.bin/bun scripts/bench-gossip.ts "$@"
