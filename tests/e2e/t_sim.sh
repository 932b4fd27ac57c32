#!/usr/bin/env bash
# The simulator (tests/sim/README.md) over a fixed seed set, 6 nights each plus the quiet tail:
# CI_SEEDS draws every PBX trait value, fault, crash label and event kind at least once
# (`python3 tests/sim/sim.py --cover 300` picks the first seven), and the rest are lives that
# caught the mutations of issue 13 (retention without a compare, windows without padding, the
# checkpoint at the host's now), and 355, 867, 915: the lives that found a deletion left
# unrecorded by a crash (docs/reliability.md, "The simulator"). Fails on any violation of the oracle (tests/sim/oracle.py),
# printing the seed, the night, the trail and the replay command.
source "$TOP/tests/e2e/lib.sh"

CI_SEEDS=${SIM_SEEDS:-36,38,54,150,171,291,299,2,5,9,11,17,19,22,24,27,355,867,915}
# The lives' files go under $T (kept for a failing one: its path is in the report).
TMPDIR="$T" python3 "$TOP/tests/sim/sim.py" --build "$BUILD" --seeds "$CI_SEEDS" \
	--nights 6 --jobs 2 || fail "the simulator found a violation (see above)"
echo ok
