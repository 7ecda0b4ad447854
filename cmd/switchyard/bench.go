package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard-dev/switchyard/bench"
)

// benchCmd runs the comparison suite (`switchyard bench`), or one of the roles the suite
// starts this binary in: the bench's switchyard server (-serve) and a ws-hold client
// process (-hold-child).
func benchCmd(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var (
		rounds  = fs.Int("rounds", 3, "alternations of every server (medians need at least 3)")
		out     = fs.String("out", "bench/results", "results root: a YYYY-MM-DD-HHMM directory is made in it")
		peer    = fs.String("peer", "", "peer binary from bench/peers/cmd/peer (default: bin/peer next to this binary)")
		only    = fs.String("servers", "", "comma-separated servers to run (default: all); switchyard+-flag+value runs switchyard serve with extra flags beside the others")
		scens   = fs.String("scenarios", "", "comma-separated scenario names or kinds to run (default: all)")
		quick   = fs.Bool("quick", false, "a seconds-long version of every scenario, to try the harness")
		profile = fs.Bool("profile", true, "profile switchyard under the scenarios whose bars it misses")
		verbose = fs.Bool("v", false, "print a line per run")

		serve      = fs.Bool("serve", false, "run switchyard with the bench routes (/, /echo, /pub, /sub) instead")
		cpuprofile = fs.String("cpuprofile", "", "with -serve: write a CPU profile here on exit")
		loops      = fs.Int("loops", 0, "with -serve: event loops (0: one per CPU)")

		holdChild = fs.Bool("hold-child", false, "internal: hold idle WebSocket connections for ws-hold")
		addr      = fs.String("addr", "127.0.0.1:8080", "with -serve or -hold-child: the server address")
		path      = fs.String("path", "/echo", "with -hold-child: the WebSocket path")
		n         = fs.Int("n", 1000, "with -hold-child: connections to hold")
		src       = fs.String("src", "127.0.0.2", "with -hold-child: source address")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *serve:
		return bench.Serve(*addr, *cpuprofile, *loops)
	case *holdChild:
		return bench.HoldChild(*addr, *path, *n, *src)
	}

	suite := bench.DefaultSuite()
	if *quick {
		suite = bench.QuickSuite()
	}
	if *scens != "" {
		suite = bench.Select(suite, splitList(*scens))
		if len(suite) == 0 {
			return fmt.Errorf("-scenarios %q matches nothing", *scens)
		}
	}
	o := bench.Options{
		Scenarios: suite, Rounds: *rounds, Only: splitList(*only), OutDir: *out,
		Bins: bench.Bins{Peer: *peer}, Progress: bench.ProgressWriter(), Profile: *profile,
	}
	if *verbose {
		o.Log = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunSuite(ctx, o)
	if rep != nil {
		if werr := rep.Write(); werr != nil && err == nil {
			err = werr
		}
		fmt.Printf("report: %s/report.md\n", rep.Dir)
	}
	return err
}
