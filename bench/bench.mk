# bench/bench.mk (included by the top-level Makefile): the benchmark's own programs, built by
# `make bench-tools` (which `make bench` and `make check` run) into build/bench/, never
# installed. docs/bench.md says what each one measures.
#   floor-cyg-noop.so     empty -finstrument-functions hooks          (bench/floor-cyg.c)
#   floor-cyg-record.so   rdtsc + 16-byte record per call event        (bench/floor-cyg.c)
#   floor-malloc-count.so malloc forwarder, counting                   (bench/floor-malloc.c)
#   floor-malloc-record.so  + 16-byte record per event                 (bench/floor-malloc.c)
#   floor-malloc-stack.so   + unw_backtrace into a stack cache         (bench/floor-malloc.c)
#   floor-malloc-jump.so  malloc/free/calloc/realloc as one tail jump  (bench/floor-malloc-jump.c)
#   decode-floor          naive varint walk of a trace                 (bench/decode-floor.c)
#   threads-fib           the thread scaling rows' call-heavy program  (bench/threads-fib.c)

BENCH_DIR := $(BUILD)/bench
BENCH_FLOORS := $(addprefix $(BENCH_DIR)/,floor-cyg-noop.so floor-cyg-record.so \
	floor-malloc-count.so floor-malloc-record.so floor-malloc-stack.so floor-malloc-jump.so)
BENCH_TOOLS := $(BENCH_FLOORS) $(BENCH_DIR)/decode-floor $(BENCH_DIR)/threads-fib

# As the preload library: optimised, never instrumented or sanitized, initial-exec TLS.
FLOOR_CFLAGS := $(COMMON_CFLAGS) -O2 -fPIC -fno-omit-frame-pointer -ftls-model=initial-exec \
	-fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
	-fno-stack-protector $(UNWIND_CFLAGS) $(CFLAGS)
FLOOR_LDFLAGS := -shared -Wl,--no-undefined -ldl -pthread $(LDFLAGS)

$(BENCH_DIR)/floor-cyg-noop.so: bench/floor-cyg.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(FLOOR_CFLAGS) -DFLOOR_RECORD=0 $< -o $@ $(FLOOR_LDFLAGS)
$(BENCH_DIR)/floor-cyg-record.so: bench/floor-cyg.c bench/floor-buf.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(FLOOR_CFLAGS) -DFLOOR_RECORD=1 $< -o $@ $(FLOOR_LDFLAGS)
$(BENCH_DIR)/floor-malloc-count.so: bench/floor-malloc.c bench/floor-buf.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(FLOOR_CFLAGS) -DFLOOR_MODE=0 $< -o $@ $(FLOOR_LDFLAGS)
$(BENCH_DIR)/floor-malloc-record.so: bench/floor-malloc.c bench/floor-buf.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(FLOOR_CFLAGS) -DFLOOR_MODE=1 $< -o $@ $(FLOOR_LDFLAGS)
$(BENCH_DIR)/floor-malloc-stack.so: bench/floor-malloc.c bench/floor-buf.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(FLOOR_CFLAGS) -DFLOOR_MODE=2 $< -o $@ $(FLOOR_LDFLAGS) $(UNWIND_LIBS)

# -fno-plt: its jumps go through the GOT, bound at load time, as the program's PLT jump does
$(BENCH_DIR)/floor-malloc-jump.so: bench/floor-malloc-jump.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(FLOOR_CFLAGS) -fno-plt -fvisibility=hidden $< -o $@ $(FLOOR_LDFLAGS)

# The decode floor is optimised as the analyzer is (-O2), without its sanitizers: a floor.
$(BENCH_DIR)/decode-floor: bench/decode-floor.c include/perfshim/trace.h $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(COMMON_CFLAGS) -O2 $(CFLAGS) $< -o $@ $(LDFLAGS)

# As samples/O2 (samples/samples.mk): -O2 -finstrument-functions. Its plain run is this
# binary without a preload (glibc's empty hooks), as for the other call-heavy rows.
$(BENCH_DIR)/threads-fib: bench/threads-fib.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(bench) $@")
	$(Q)$(CC) $(SAMPLE_FLAGS) -O2 $(SAMPLE_INSTR) $< -o $@

bench-tools: $(BENCH_TOOLS)
