#!/usr/bin/env bash
# Children are traced whatever environment the parent gives them: a posix_spawn'd child and an
# execve'd image whose explicit environment is just {"ENVCHILD=1"} (no LD_PRELOAD, no
# PERFSHIM_*) write their traces (PATH.<pid>, PATH.exec) with exactly their kidwork() calls,
# as does a fork child. PERFSHIM_FOLLOW=0, and the runner's --no-follow, leave every child
# untraced (only PATH is written) and the program prints and exits the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
need_jq
cd "$TMP"

# traces : the trace files left here besides t.bin
traces() { ls t.bin.* 2>/dev/null | grep -v -E '\.(stdout|stderr|rc|fjson|f)$' | tr '\n' ' ' | sed 's/ $//'; }

for v in "" O2/; do
	prog="$S/${v}envchild"
	for how in spawn:7 execve:9 fork:5; do
		mode=${how%:*} n=${how#*:}
		w="${v}envchild $mode"
		plain ref "$prog" "$mode"
		rm -f t.bin t.bin.*
		traced "$TMP/t.bin" "$prog" "$mode"
		same_behaviour ref t.bin
		kid=$(traces)
		case $mode in
		execve) assert_eq t.bin.exec "$kid" "$w: the new image's trace" ;;
		*) [[ $kid =~ ^t\.bin\.[0-9]+$ ]] || fail "$w: child traces '$kid'" ;;
		esac
		funcs "$kid"
		assert_eq "$n" "$(calls_of "$kid" kidwork)" "$w: the child's kidwork() calls"
		assert_eq 1 "$(calls_of "$kid" kid)" "$w: the child's kid() calls"
		funcs t.bin
		assert_eq 0 "$(calls_of t.bin kidwork)" "$w: kidwork() in the parent's trace"

		rm -f t.bin t.bin.*
		PERFSHIM_FOLLOW=0 traced "$TMP/t.bin" "$prog" "$mode"
		same_behaviour ref t.bin
		assert_eq "" "$(traces)" "$w, PERFSHIM_FOLLOW=0: child traces"
		[ -s t.bin ] || fail "$w, PERFSHIM_FOLLOW=0: no trace of the parent"

		rm -f t.bin t.bin.*
		"$RUNNER" -q --no-follow -o "$TMP/t.bin" "$prog" "$mode" >run.stdout 2>run.stderr
		echo $? >run.rc
		same_behaviour ref run
		assert_eq "" "$(traces)" "$w, --no-follow: child traces"
		[ -s t.bin ] || fail "$w, --no-follow: no trace of the parent"
	done
done
