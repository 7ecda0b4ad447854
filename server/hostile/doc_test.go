// Package hostile is switchyard's hostile-client suite (issue 14): each test starts the
// real binary ($SWITCHYARD_BIN, which `make test` sets to bin/switchyard) as
// `switchyard serve -loops 1`, attacks it from raw loopback sockets with bytes built here,
// and meanwhile has a well-behaved client on the same event loop (a GET / and a WebSocket
// echo, over and over). Each case asserts a behaviour: the server's RSS (VmRSS from
// /proc/<pid>/status, measured while the attacking connections are still open) grows by
// no more than the bound, the attacker gets the answer the issue prescribes, and
// the well-behaved client is answered. Latencies are logged, never asserted: the suite
// must pass on a busy machine.
//
// One file per attack; proc_test.go starts the server and reads its RSS,
// clients_test.go holds the wire-level clients, and siege_test.go runs an attack beside
// the well-behaved client.
//
//	make build && SWITCHYARD_BIN=$PWD/bin/switchyard go test -race -v ./server/hostile/
package hostile
