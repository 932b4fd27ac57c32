#!/usr/bin/env bash
# Setup: fakepbx with 1 day x 8 recordings, played with each download (20036) reading the guide
# allows: --bare-single (a one-file request answers the bare WAV, not a tar) with batch_files = 1
# and with the default batches, --tar-names base | dotslash, --download-key wavfiles (only the
# example's spelling works) | wavefiles (only the table's).
# Command: nexo-archive run, a fresh archive and fakepbx per variant.
# Expected: each exits 0 with "archived 8"; the manifest holds 8 verified lines matching the PBX.
source "$TOP/tests/e2e/lib.sh"

generate 1 8 --min-seconds 1 --max-seconds 2
variant_case bare-single-1 '[sync]' 'batch_files = 1' -- --bare-single
variant_case bare-single -- --bare-single
variant_case tar-base -- --tar-names base
variant_case tar-dotslash -- --tar-names dotslash
variant_case key-wavfiles -- --download-key wavfiles
variant_case key-wavefiles -- --download-key wavefiles
variant_case key-wavfiles-1 '[sync]' 'batch_files = 1' -- --download-key wavfiles --bare-single
echo "ok"
