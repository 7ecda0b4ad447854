package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
)

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		cfg      server.Config
		limits   = parser.DefaultLimits()
		origins  = fs.String("origins", "", "comma-separated Origin values /echo accepts (default: any)")
		logLevel = fs.String("log-level", "info", "log level: debug (shows why requests were refused), info, warn, error")
	)
	var h2cfg server.H2Config
	fs.StringVar(&cfg.Addr, "addr", ":8080", "address to listen on")
	fs.Func("h2-max-streams", "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default 100)", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		h2cfg.MaxConcurrentStreams = uint32(n)
		return err
	})
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops (0: one per CPU)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "maximum open connections; more get 503 (0: no cap)")
	fs.DurationVar(&cfg.HeaderTimeout, "header-timeout", 0, "time allowed for a request head (default 10s)")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", 0, "time a request body may go without progress (default 30s)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "keep-alive idle timeout (default 60s)")
	fs.IntVar(&limits.MaxRequestLine, "max-request-line", limits.MaxRequestLine, "request line limit in bytes (414)")
	fs.IntVar(&limits.MaxHeaderBytes, "max-header-bytes", limits.MaxHeaderBytes, "header block limit in bytes (431)")
	fs.IntVar(&limits.MaxHeaders, "max-headers", limits.MaxHeaders, "header field count limit (431)")
	fs.Int64Var(&limits.MaxBodyBytes, "max-body", limits.MaxBodyBytes, "request body limit in bytes (413)")
	fs.BoolVar(&limits.AllowBareLF, "allow-bare-lf", false, "accept bare LF line endings (RFC 9112 §2.2 leniency)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	cfg.Limits = limits
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	srv := server.New(cfg)
	standaloneRoutes(srv, splitList(*origins), h2cfg)
	if err := srv.Listen(); err != nil {
		return err
	}
	fmt.Printf("switchyard listening on %s\n", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := srv.Serve(ctx)
	fmt.Println("switchyard stopped")
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
