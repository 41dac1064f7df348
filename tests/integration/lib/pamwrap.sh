# lib/pamwrap.sh — run a command under pam_wrapper, one such process at a
# time on this machine (sourced by sh and bash scripts).
#
# pam_wrapper 1.1 copies a process's service files into /tmp/pam.X (X one
# letter or digit, picked from the pid) and removes that directory when the
# process exits.  A process killed by SIGKILL — agent_faults*.sh kills the
# agent at every protocol step — leaves its directory behind, and the next
# pam_wrapper process whose search passes it deletes it.  That clean-up is
# not safe against other pam_wrapper processes starting at the same moment:
# one that read the dead pid before another removed the directory can
# delete the directory a third process has just created under the same
# name, and that process's pam_start then finds no service file ("error
# reading PAM configuration file").  CI's ASan stage hit it once
# (agent_faults_rest.sh, pam after_journal_removed:kill, while other PAM
# tests ran in parallel).  /tmp/pam.X is machine-wide, so the lock is too:
# every pam_wrapper process of the suite starts through pamwrap().
PAMWRAP_LOCK=${PAMWRAP_LOCK:-/tmp/laps-tests.pam_wrapper.lock}

# pamwrap PRELOAD SERVICE_DIR CMD [ARG...]: CMD with LD_PRELOAD=PRELOAD (a
# sanitizer runtime first), PAM_WRAPPER=1 and PAM_WRAPPER_SERVICE_DIR,
# holding the lock; then, still holding it, the directories of processes
# that died without removing theirs are removed (so the suite leaves none
# behind).  flock -o: CMD does not inherit the lock (nothing it leaves
# running keeps it); -w: a stuck holder fails the test after 10 minutes
# instead of hanging it.  The exit status is CMD's (128 + the signal when
# it was killed).
pamwrap() {
	flock -o -w 600 "$PAMWRAP_LOCK" sh -c '
		pre=$1 dir=$2
		shift 2
		env LD_PRELOAD="$pre" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$dir" "$@"
		rc=$?
		for d in /tmp/pam.?; do
			[ -f "$d/pid" ] || continue
			p=$(cat "$d/pid" 2>/dev/null)
			case $p in "" | *[!0-9]*) continue ;; esac
			kill -0 "$p" 2>/dev/null || rm -rf "$d"
		done
		exit $rc' pamwrap "$@"
}
