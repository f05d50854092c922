# Weir: the two commands that matter are `make demo` and `make test`.
SWIFT ?= swift
DATA ?= $(CURDIR)/.demo

.PHONY: all bootstrap build release test demo bench bench-log bench-recovery clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release --product weir

# Suites run one at a time: many start real brokers, child processes and threads and time their
# work, and two cores shared by parallel suites starve Swift's cooperative pool (it has one
# thread per core). Serial, the whole suite takes about two minutes here.
test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

# For now the demo shows the log at work; it grows into the full gateway demo.
demo: release
	@mkdir -p $(DATA)
	.build/release/weir bench log --dir $(DATA) --records 1000000 --record-bytes 100
	.build/release/weir bench recovery --dir $(DATA) --size 256MiB

bench: bench-log bench-recovery

bench-log: release
	.build/release/weir bench log --dir . --records 2000000 --record-bytes 100 --fsync interval
	.build/release/weir bench log --dir . --records 500000 --record-bytes 1024 --fsync interval
	.build/release/weir bench log --dir . --records 500000 --record-bytes 100 --fsync always --batch 100

bench-recovery: release
	.build/release/weir bench recovery --dir . --size 4GiB

clean:
	rm -rf .build .demo
