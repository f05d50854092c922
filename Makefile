# Weir: the two commands that matter are `make demo` and `make test`.
SWIFT ?= swift
DATA ?= $(CURDIR)/.demo

.PHONY: all bootstrap build release test demo bench bench-log bench-recovery bench-gateway fuzz clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release --product weir
	$(SWIFT) build -c release --product firmware-sim

# Suites run one at a time: many start real brokers, child processes and threads and time their
# work, and two cores shared by parallel suites starve Swift's cooperative pool (it has one
# thread per core). Serial, the whole suite takes about three minutes here.
test:
	@scripts/bootstrap --test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

# The whole path: weir dev-cluster, weir run (config/demo.yaml) and firmware-sim's demo
# fleet at 60x for about a minute; live figures, then a summary against the fleet's ground truth.
demo: release
	DEMO_DIR=$(DATA) scripts/demo

# Every libFuzzer harness for FUZZ_TIME seconds (default 60) each, with coverage and ASan in
# .build-fuzz; corpora grow in fuzz/corpus/, crashes land in fuzz/crashes/ (make test replays both).
# `make fuzz FUZZ_TIME=600 FUZZ_TARGETS="config rules"` runs some for longer.
FUZZ_TIME ?= 60
FUZZ_TARGETS ?=
fuzz: bootstrap
	FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz $(FUZZ_TARGETS)

bench: bench-log bench-recovery bench-gateway

# The whole daemon under MQTT load with a Kafka uplink, beside the broker-to-bare-subscriber ceiling.
bench-gateway: release
	scripts/bench-gateway

bench-log: release
	.build/release/weir bench log --dir . --records 2000000 --record-bytes 100 --fsync interval
	.build/release/weir bench log --dir . --records 500000 --record-bytes 1024 --fsync interval
	.build/release/weir bench log --dir . --records 500000 --record-bytes 100 --fsync always --batch 100

bench-recovery: release
	.build/release/weir bench recovery --dir . --size 4GiB

clean:
	rm -rf .build .demo
