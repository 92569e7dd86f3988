#!/usr/bin/env bash
# Ways out that the shim's exit paths never see still leave every record committed before
# them (a thread's chunk is a mapped region of the trace file): after work() x N, the process
# leaves by daemon() (glibc's parent _exit; the library's daemon() leaves through the wrapped
# _exit: complete), syscall(SYS_exit_group) (wrapped: complete), exit_group in inline assembly
# (records kept, the end not recorded: unfinished chunks, no PROCESS_END, and the reader says
# so), the same with a second thread mid-run, abort(), SIGSEGV and SIGKILL. Exact call
# counts; the program prints and exits as without the shim.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-report.sh"
. "$(dirname "$0")/lib-dump.sh"
need_jq
cd "$TMP"

# complete TRACE : the summary's "complete" of every thread, in order
complete() { json summary "$1" | jq -r '[.threads[].complete] | map(tostring) | join(" ")'; }
# finished TRACE : whether the reports say the process's end was recorded
finished() { json summary "$1" 2>/dev/null | jq -r .process_finished; }

for v in "" O2/; do
	prog="$S/${v}exits"
	for how in syscall asm thread abort segv; do
		w="${v}exits $how"
		plain ref "$prog" "$how" 100000
		rm -f t.bin t.bin.*
		traced "$TMP/t.bin" "$prog" "$how" 100000
		same_behaviour ref t.bin
		funcs t.bin
		assert_eq 100000 "$(calls_of t.bin work)" "$w: work() calls"
		assert_eq 1 "$(calls_of t.bin main)" "$w: main() calls"
		assert_eq 0 "$(ls t.bin.* 2>/dev/null | grep -c -E '^t\.bin\.[0-9]+$')" "$w: other traces"
		case $how in
		syscall)
			assert_eq 3 "$(cat t.bin.rc)" "$w: status"
			assert_eq true "$(complete t.bin)" "$w: thread complete"
			assert_eq true "$(finished t.bin)" "$w: the end recorded"
			assert_eq 1 "$(nchunks_with $TRACE_CHUNK_PROCESS_END t.bin)" "$w: chunks with the end"
			assert_eq 0 "$(nchunks_with $TRACE_CHUNK_OPEN t.bin)" "$w: unfinished chunks" ;;
		asm)
			assert_eq 3 "$(cat t.bin.rc)" "$w: status"
			assert_eq false "$(complete t.bin)" "$w: thread complete"
			assert_eq false "$(finished t.bin)" "$w: the end recorded"
			assert_eq 0 "$(nchunks_with $TRACE_CHUNK_PROCESS_END t.bin)" "$w: chunks with the end"
			assert_eq 1 "$(nchunks_with $TRACE_CHUNK_OPEN t.bin)" "$w: unfinished chunks" ;;
		thread)
			assert_eq 50000 "$(calls_of t.bin twork)" "$w: twork() calls of the other thread"
			assert_eq "false false" "$(complete t.bin)" "$w: threads complete"
			assert_eq 0 "$(nchunks_with $TRACE_CHUNK_PROCESS_END t.bin)" "$w: chunks with the end"
			assert_eq 2 "$(nchunks_with $TRACE_CHUNK_OPEN t.bin)" "$w: unfinished chunks" ;;
		abort) assert_eq 134 "$(cat t.bin.rc)" "$w: status" ;;
		segv) assert_eq 139 "$(cat t.bin.rc)" "$w: status" ;;
		esac
		clean t.bin
		"$ANALYZE" dump t.bin >/dev/null 2>dump.err || fail "$w: dump exited $?"
		if [ $how = syscall ]; then
			assert_eq 0 "$(wc -c <dump.err)" "$w: bytes on the analyzer's stderr"
		else
			# one warning: the end was not recorded (and no damage)
			assert_eq 1 "$(wc -l <dump.err)" "$w: lines on the analyzer's stderr"
			grep -q "the process's end was not recorded" dump.err ||
				fail "$w: warning: $(cat dump.err)"
			grep -q -i "damage\|cut" dump.err && fail "$w: warning: $(cat dump.err)"
		fi
	done

	# SIGKILL once the program said it made its calls
	w="${v}exits kill"
	rm -f t.bin t.bin.* out
	PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$prog" kill 100000 >out 2>err &
	pid=$!
	until grep -q '^ready' out; do
		kill -0 $pid 2>/dev/null || fail "$w: the program ended before it was killed"
		sleep 0.02
	done
	kill -KILL $pid
	wait $pid
	assert_eq 137 "$?" "$w: status"
	funcs t.bin
	assert_eq 100000 "$(calls_of t.bin work)" "$w: work() calls"
	assert_eq 1 "$(calls_of t.bin main)" "$w: main() calls"
	assert_eq false "$(complete t.bin)" "$w: thread complete"
	assert_eq false "$(finished t.bin)" "$w: the end recorded"
	assert_eq 1 "$(nchunks_with $TRACE_CHUNK_OPEN t.bin)" "$w: unfinished chunks"
	clean t.bin

	# daemon(): the command substitution waits for the daemon child too (it keeps stdout)
	w="${v}exits daemon"
	rm -f t.bin t.bin.*
	ref=$("$prog" daemon 1000 | sort)
	got=$(PERFSHIM_OUTPUT="$TMP/t.bin" LD_PRELOAD="$LIB" "$prog" daemon 1000 | sort)
	assert_eq "$ref" "$got" "$w: output"
	funcs t.bin
	assert_eq 1000 "$(calls_of t.bin work)" "$w: the parent's work() calls"
	assert_eq 1 "$(calls_of t.bin main)" "$w: the parent's main() calls"
	assert_eq true "$(complete t.bin)" "$w: the parent's thread complete"
	assert_eq true "$(finished t.bin)" "$w: the parent's end recorded"
	assert_eq 1 "$(nchunks_with $TRACE_CHUNK_PROCESS_END t.bin)" "$w: the parent's end"
	child=$(ls t.bin.* | grep -E '^t\.bin\.[0-9]+$')
	assert_eq 1 "$(echo "$child" | wc -l)" "$w: child traces"
	funcs "$child"
	assert_eq 500 "$(calls_of "$child" work)" "$w: the child's work() calls"
	assert_eq true "$(complete "$child")" "$w: the child's thread complete"
done
