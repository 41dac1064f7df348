#!/bin/sh
# agent_faults_ldap_enc.sh — agent_faults.sh's matrix against a real slapd
# in schema mslaps with encrypt_to (msLAPS-EncryptedPassword and its
# history; the group key from the TEST-ONLY gkdi_root_key_file): after
# every fault the escrow decrypts to the account's password (current, or
# the newest history value while the current one is pending).
FAULT_BACKEND=ldap FAULT_LDAP_MODE=encrypted exec bash "${top_srcdir:-.}/tests/integration/agent_faults.sh" "$@"
