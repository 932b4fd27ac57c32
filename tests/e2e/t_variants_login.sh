#!/usr/bin/env bash
# Setup: fakepbx with 1 day x 8 recordings, --login-style query (8404 reads UserName/Password
# only from the query string, as in the guide's example URL) or post (only from the form body,
# as in its "Request Method: POST"), also with --no-session html.
# Command: nexo-archive run, a fresh archive and fakepbx per variant.
# Expected: each exits 0 with "archived 8"; the manifest holds 8 verified lines matching the PBX.
source "$TOP/tests/e2e/lib.sh"

generate 1 8 --min-seconds 1 --max-seconds 2
variant_case login-query -- --login-style query
variant_case login-post -- --login-style post
variant_case login-query-html -- --login-style query --no-session html
variant_case login-post-401 -- --login-style post --no-session 401
echo "ok"
