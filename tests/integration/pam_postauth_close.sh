#!/bin/sh
# tests/integration/pam_postauth_close.sh — pam_postauth.sh plus one step:
# after a post-auth rotation with action = reset-logoff, the session that
# was ended closes (pam_laps records closed = now, later than the
# rotation); laps-agent must not count that close as a new use, or it
# rotates (and logs off, or reboots) a second time.
#
# agent/due.c: a use counts only if its session opened after the last
# rotation (opened > rotated_at); its deadline is then max(opened, closed)
# + delay.  This test keeps it that way (docs/PAM.md).
: "${top_srcdir:=.}"
PAM_POSTAUTH_CLOSE_AFTER_ROTATION=1
PAM_POSTAUTH_UID=424243
export PAM_POSTAUTH_UID
export PAM_POSTAUTH_CLOSE_AFTER_ROTATION
exec sh "$top_srcdir/tests/integration/pam_postauth.sh"
