# Convenience targets; scripts/test is the test command CI runs.
.PHONY: all build test vet fmt serve

all: build

build:
	go build -o bin/kumo ./cmd/kumo

test:
	scripts/test

vet:
	go vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

serve:
	go run ./cmd/kumo serve
