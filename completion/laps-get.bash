# bash completion for laps-get(1)
# shellcheck shell=bash

_laps_get()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -s || return
	else
		COMPREPLY=()
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local opts="--config --key --passphrase-fd --account --history --json
		--source --expire --break-glass --reason --verbose --version --help"
	local keygen_opts="--output --comment --passphrase-fd --no-passphrase --help"
	local report_opts="--config --source --grace --status --json --csv --verbose --help"
	local statuses="ok due overdue stuck never"

	if [[ ${words[1]} == keygen ]]; then
		case $prev in
		-o|--output)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return;;
		-C|--comment|-P|--passphrase-fd)
			return;;
		esac
		COMPREPLY=($(compgen -W "$keygen_opts" -- "$cur"))
		return
	fi

	if [[ ${words[1]} == check-config ]]; then
		case $prev in
		-c|--config|-k|--key)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return;;
		-s|--source)
			COMPREPLY=($(compgen -W "file ldap rest graph" -- "$cur"))
			return;;
		esac
		COMPREPLY=($(compgen -W "--config --source --key --verbose --help" -- "$cur"))
		return
	fi

	# escrow policies: bulk expiry and approvals (laps-escrowd)
	case ${words[1]} in
	expire)
		case $prev in
		-f|--filter)
			COMPREPLY=($(compgen -W "name= unit= account= rotated-before=" -- "$cur"))
			compopt -o nospace 2>/dev/null
			return;;
		-S|--status)
			COMPREPLY=($(compgen -W "pending confirmed overdue" -- "$cur"))
			return;;
		esac
		COMPREPLY=($(compgen -W "--config --source --filter --status --dry-run --yes --help" -- "$cur"))
		return;;
	request|approvals|approve|deny)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--config --source --account --reason --json --help" -- "$cur"))
		[[ ${words[1]} == request && $cur != -* ]] && COMPREPLY=($(compgen -A hostname -- "$cur"))
		return;;
	esac
	if [[ ${words[1]} == enroll-token || ${words[1]} == device ]]; then
		case $prev in
		-c|--config)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return;;
		-S|--status)
			COMPREPLY=($(compgen -W "enabled disabled" -- "$cur"))
			return;;
		-e|--expires)
			COMPREPLY=($(compgen -W "1h 1d 7d 30d" -- "$cur"))
			return;;
		-u|--unit|-n|--uses|-p|--name-pattern)
			return;;
		esac
		if [[ $cword -eq 2 ]]; then
			if [[ ${words[1]} == device ]]; then
				COMPREPLY=($(compgen -W "list disable enable reenroll" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "create list revoke" -- "$cur"))
			fi
			return
		fi
		case ${words[1]}/${words[2]} in
		enroll-token/create)
			COMPREPLY=($(compgen -W "--config --unit --uses --expires --name-pattern
				--json --verbose --help" -- "$cur"));;
		device/list)
			COMPREPLY=($(compgen -W "--config --status --json --verbose --help" -- "$cur"));;
		device/*)
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "--config --json --verbose --help" -- "$cur"))
			else
				COMPREPLY=($(compgen -A hostname -- "$cur"))
			fi;;
		*)
			COMPREPLY=($(compgen -W "--config --json --verbose --help" -- "$cur"));;
		esac
		return
	fi

	if [[ ${words[1]} == report ]]; then
		case $prev in
		-c|--config)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return;;
		-s|--source)
			COMPREPLY=($(compgen -W "file ldap rest graph" -- "$cur"))
			return;;
		-g|--grace)
			COMPREPLY=($(compgen -W "12h 1d 3d 7d" -- "$cur"))
			return;;
		-S|--status)
			# a comma-separated list: complete the word after the last comma
			local done=${cur%"${cur##*,}"}
			COMPREPLY=($(compgen -P "$done" -W "$statuses" -- "${cur##*,}"))
			return;;
		esac
		COMPREPLY=($(compgen -W "$report_opts" -- "$cur"))
		return
	fi

	case $prev in
	-c|--config|-k|--key)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return;;
	-s|--source)
		COMPREPLY=($(compgen -W "file ldap rest graph" -- "$cur"))
		return;;
	-a|--account|-P|--passphrase-fd)
		return;;
	esac

	case $cur in
	--expire=*)
		COMPREPLY=($(compgen -W "now +1h +1d" -- "${cur#--expire=}"))
		return;;
	--source=*)
		COMPREPLY=($(compgen -W "file ldap rest graph" -- "${cur#--source=}"))
		return;;
	-*)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return;;
	esac

	if [[ $cword -eq 1 ]]; then
		COMPREPLY=($(compgen -W "keygen report check-config expire request approvals approve deny enroll-token device" -A hostname -- "$cur"))
	else
		COMPREPLY=($(compgen -A hostname -- "$cur"))
	fi
}
complete -F _laps_get laps-get
