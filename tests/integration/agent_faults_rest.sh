#!/bin/sh
# agent_faults_rest.sh — agent_faults.sh's matrix with the escrow in
# a real laps-escrowd (SQLite), the device by client certificate.
FAULT_BACKEND=rest exec bash "${top_srcdir:-.}/tests/integration/agent_faults.sh" "$@"
