# shellcheck shell=bash
# bench/rest.sh — the REST figures of bench/run (sourced by it): laps-escrowd
# and curl.  Until the build has backend = rest they print
# "n/a (backend rest not built)".
rest_na() { # REASON
	local id
	for id in rest_noop rest_rot rest_get; do
		SKIP[$id]="n/a ($1)"
	done
}
fig rest_noop "REST: no-op run" "" ""
fig rest_rot "REST: rotation, SHA-512 656,000" "" ""
fig rest_get "REST: laps-get read" "" ""
rest_na "backend rest not built"
