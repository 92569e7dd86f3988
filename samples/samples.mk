# Samples (included by the top-level Makefile). Every samples/NAME.c or NAME.cc becomes
#   build/samples/NAME      -O0 -finstrument-functions (what the tests read)
#   build/samples/O2/NAME   -O2 -finstrument-functions (tests run both where it matters)
#   build/samples/plain/NAME -O2, not instrumented (the benchmark's "plain run")
# samples/lib*.c become shared objects build/samples/lib*.so (dlopen tests), instrumented.
# A sample needing more link flags lists them in a comment line: "// LDLIBS: -lfoo".

SAMPLE_C := $(filter-out samples/lib%.c,$(wildcard samples/*.c))
SAMPLE_CXX := $(wildcard samples/*.cc)
SAMPLE_LIBS := $(wildcard samples/lib*.c)
SAMPLE_NAMES := $(basename $(notdir $(SAMPLE_C) $(SAMPLE_CXX)))
SAMPLE_BINS := $(addprefix $(BUILD)/samples/,$(SAMPLE_NAMES)) \
	$(addprefix $(BUILD)/samples/O2/,$(SAMPLE_NAMES)) \
	$(addprefix $(BUILD)/samples/plain/,$(SAMPLE_NAMES)) \
	$(SAMPLE_LIBS:samples/%.c=$(BUILD)/samples/%.so)

SAMPLE_FLAGS := -g -fno-omit-frame-pointer -pthread -iquote . -Wall -Wextra -Wno-unused-parameter
SAMPLE_INSTR := -finstrument-functions
sample_ldlibs = $(shell sed -n 's|^// LDLIBS: ||p' $(1)) -ldl -lm

samples: $(SAMPLE_BINS)

$(BUILD)/samples/%: samples/%.c include/perfshim.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SAMPLE  $@")
	$(Q)$(CC) $(SAMPLE_FLAGS) -O0 -fno-inline $(SAMPLE_INSTR) $< -o $@ $(call sample_ldlibs,$<)
$(BUILD)/samples/O2/%: samples/%.c include/perfshim.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAMPLE_FLAGS) -O2 $(SAMPLE_INSTR) $< -o $@ $(call sample_ldlibs,$<)
$(BUILD)/samples/plain/%: samples/%.c include/perfshim.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAMPLE_FLAGS) -O2 $< -o $@ $(call sample_ldlibs,$<)

$(BUILD)/samples/%: samples/%.cc include/perfshim.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SAMPLE  $@")
	$(Q)$(CXX) $(SAMPLE_FLAGS) -O0 -fno-inline $(SAMPLE_INSTR) $< -o $@ $(call sample_ldlibs,$<)
$(BUILD)/samples/O2/%: samples/%.cc include/perfshim.h
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(SAMPLE_FLAGS) -O2 $(SAMPLE_INSTR) $< -o $@ $(call sample_ldlibs,$<)
$(BUILD)/samples/plain/%: samples/%.cc include/perfshim.h
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(SAMPLE_FLAGS) -O2 $< -o $@ $(call sample_ldlibs,$<)

$(BUILD)/samples/lib%.so: samples/lib%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAMPLE_FLAGS) -O0 -fno-inline $(SAMPLE_INSTR) -fPIC -shared $< -o $@

# samples/minidb/: the multi-file realistic sample (a small in-memory SQL database), built the
# same three ways from all its sources in one compiler call.
MINIDB_SRCS := $(wildcard samples/minidb/*.c)
MINIDB_DEPS := $(MINIDB_SRCS) $(wildcard samples/minidb/*.h)

samples: $(BUILD)/samples/minidb $(BUILD)/samples/O2/minidb $(BUILD)/samples/plain/minidb

$(BUILD)/samples/minidb: $(MINIDB_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SAMPLE  $@")
	$(Q)$(CC) $(SAMPLE_FLAGS) -O0 -fno-inline $(SAMPLE_INSTR) $(MINIDB_SRCS) -o $@ -lm
$(BUILD)/samples/O2/minidb: $(MINIDB_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAMPLE_FLAGS) -O2 $(SAMPLE_INSTR) $(MINIDB_SRCS) -o $@ -lm
$(BUILD)/samples/plain/minidb: $(MINIDB_DEPS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAMPLE_FLAGS) -O2 $(MINIDB_SRCS) -o $@ -lm
