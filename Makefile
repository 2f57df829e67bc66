# zerotouch — the two commands: `make demo` and `make test`. Both install what they need first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all setup configure build test test-unit demo bench fuzz asan format tidy clean

all: build

setup:
	@bash tools/setup.sh

configure: setup
	@if [ ! -f $(BUILD)/build.ninja ]; then cmake --preset default -B $(BUILD); fi

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The fast loop: the GoogleTest binaries and the layer check (ctest label unit), no e2e.
test-unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS) --timeout 900

demo: build
	$(BUILD)/bin/ztp demo --dir demo

bench: build
	bash tools/bench.sh $(BUILD)

asan: setup
	cmake --preset asan && cmake --build build-asan -j $(JOBS) && cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900

fuzz: setup
	cmake --preset fuzz && cmake --build build-fuzz -j $(JOBS) && bash tools/fuzz.sh build-fuzz

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf build build-asan build-fuzz
