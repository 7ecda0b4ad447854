module github.com/switchyard-dev/switchyard

go 1.26.0

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/ws v1.5.0 // indirect
	github.com/panjf2000/ants/v2 v2.12.1 // indirect
	github.com/panjf2000/gnet/v2 v2.10.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)

// Test-only module file for xnet_bench_test.go (build tag xnetcmp): the main
// go.sum lacks golang.org/x/text, which golang.org/x/net/http2 (not hpack)
// needs through idna. See xnet_bench_test.go for the command.
require golang.org/x/text v0.43.0 // indirect
