#!/bin/sh
# agent_faults_ldap.sh — agent_faults.sh's matrix with the escrow in
# a real slapd (schema laps).
FAULT_BACKEND=ldap exec bash "${top_srcdir:-.}/tests/integration/agent_faults.sh" "$@"
