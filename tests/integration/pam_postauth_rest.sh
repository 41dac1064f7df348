#!/bin/sh
# tests/integration/pam_postauth_rest.sh — pam_postauth.sh through
# backend = rest: pam_laps records the session, and the post-auth rotation
# escrows to a real laps-escrowd before it changes the password.
: "${top_srcdir:=.}"
PAM_POSTAUTH_BACKEND=rest
PAM_POSTAUTH_UID=424244
export PAM_POSTAUTH_BACKEND PAM_POSTAUTH_UID
exec bash "$top_srcdir/tests/integration/pam_postauth.sh"
