#!/usr/bin/env bash
# Setup: fakepbx with 1 day x 8 recordings, played with each listing (20053) shape the vendor
# guide allows: --list-style numbered | keyed | bare, --int-values (duration as a number,
# totalcount as a string), --totalcount-missing, and the default (json_array_recordings).
# Command: nexo-archive run, a fresh archive and fakepbx per variant.
# Expected: each exits 0 with "archived 8"; the manifest holds 8 verified lines matching the PBX.
source "$TOP/tests/e2e/lib.sh"

generate 1 8 --min-seconds 1 --max-seconds 2
variant_case default --
variant_case numbered -- --list-style numbered
variant_case keyed -- --list-style keyed
variant_case bare -- --list-style bare
variant_case int-values -- --int-values
variant_case totalcount-missing -- --totalcount-missing
variant_case numbered-int -- --list-style numbered --int-values
echo "ok"
