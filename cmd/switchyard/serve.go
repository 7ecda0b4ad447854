package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/admin"
)

// parseServeArgs reads -config, then lets the flags given on the command line override it.
func parseServeArgs(args []string) (*serveConfig, error) {
	cfg := &serveConfig{Addr: ":8080", LogLevel: "info"}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	configPath := fs.String("config", "", "JSON config file (routes, limits, timeouts, policies); flags override it")
	origins := fs.String("origins", "", "comma-separated Origin values the default /echo accepts (default: any)")
	var f serveConfig // flag values, applied only where given
	fs.StringVar(&f.Addr, "addr", cfg.Addr, "address to listen on")
	fs.StringVar(&f.Admin, "admin", "", "admin listener for /metrics, /debug/pprof/ and /healthz, e.g. 127.0.0.1:9090 (off by default)")
	fs.StringVar(&f.LogLevel, "log-level", cfg.LogLevel, "debug (shows why requests were refused), info, warn, error")
	fs.IntVar(&f.Loops, "loops", 0, "event loops (0: one per CPU)")
	fs.IntVar(&f.MaxConns, "max-conns", 0, "maximum open connections; more get 503 (0: no cap)")
	durationFlag(fs, &f.Timeouts.Header, "header-timeout", "time allowed for a request head (default 10s)")
	durationFlag(fs, &f.Timeouts.Body, "body-timeout", "time a request body may go without progress (default 30s)")
	durationFlag(fs, &f.Timeouts.Idle, "idle-timeout", "keep-alive idle timeout (default 60s)")
	durationFlag(fs, &f.Timeouts.Shutdown, "shutdown-timeout", "graceful shutdown limit on SIGINT/SIGTERM (default 10s)")
	fs.IntVar(&f.Limits.MaxRequestLine, "max-request-line", 0, "request line limit in bytes (414; default 8192)")
	fs.IntVar(&f.Limits.MaxHeaderBytes, "max-header-bytes", 0, "header block limit in bytes (431; default 16384)")
	fs.IntVar(&f.Limits.MaxHeaders, "max-headers", 0, "header field count limit (431; default 100)")
	fs.Int64Var(&f.Limits.MaxBody, "max-body", 0, "request body limit in bytes (413; default 4 MiB)")
	fs.BoolVar(&f.Limits.AllowBareLF, "allow-bare-lf", false, "accept bare LF line endings (RFC 9112 §2.2 leniency)")
	fs.Func("h2-max-streams", "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default 100)", func(v string) error {
		var n uint32
		_, err := fmt.Sscan(v, &n)
		f.HTTP2.MaxConcurrentStreams = n
		return err
	})
	fs.BoolVar(&f.HTTP2.Disabled, "no-http2", false, "do not accept HTTP/2 (h2c upgrade or prior knowledge)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *configPath != "" {
		if err := loadConfigFile(*configPath, cfg); err != nil {
			return nil, err
		}
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "addr":
			cfg.Addr = f.Addr
		case "admin":
			cfg.Admin = f.Admin
		case "log-level":
			cfg.LogLevel = f.LogLevel
		case "loops":
			cfg.Loops = f.Loops
		case "max-conns":
			cfg.MaxConns = f.MaxConns
		case "header-timeout":
			cfg.Timeouts.Header = f.Timeouts.Header
		case "body-timeout":
			cfg.Timeouts.Body = f.Timeouts.Body
		case "idle-timeout":
			cfg.Timeouts.Idle = f.Timeouts.Idle
		case "shutdown-timeout":
			cfg.Timeouts.Shutdown = f.Timeouts.Shutdown
		case "max-request-line":
			cfg.Limits.MaxRequestLine = f.Limits.MaxRequestLine
		case "max-header-bytes":
			cfg.Limits.MaxHeaderBytes = f.Limits.MaxHeaderBytes
		case "max-headers":
			cfg.Limits.MaxHeaders = f.Limits.MaxHeaders
		case "max-body":
			cfg.Limits.MaxBody = f.Limits.MaxBody
		case "allow-bare-lf":
			cfg.Limits.AllowBareLF = f.Limits.AllowBareLF
		case "h2-max-streams":
			cfg.HTTP2.MaxConcurrentStreams = f.HTTP2.MaxConcurrentStreams
		case "no-http2":
			cfg.HTTP2.Disabled = f.HTTP2.Disabled
		}
	})
	if o := splitList(*origins); len(o) > 0 {
		if len(cfg.Routes) > 0 {
			return nil, errors.New("-origins applies to the default routes; set websocket.origins per route in the config file")
		}
		cfg.Routes = []routeConfig{defaultRoutes[0], {Path: "/echo", Kind: "echo", WebSocket: &websocketConfig{Origins: o}}}
	}
	return cfg, cfg.validate()
}

func durationFlag(fs *flag.FlagSet, d *duration, name, usage string) {
	fs.Func(name, usage, func(v string) error {
		x, err := time.ParseDuration(v)
		*d = duration(x)
		return err
	})
}

func serve(args []string) error {
	cfg, err := parseServeArgs(args)
	if err != nil {
		return err
	}
	srv := server.New(cfg.serverConfig())
	installRoutes(srv, cfg)
	if err := srv.Listen(); err != nil {
		return err
	}
	fmt.Printf("switchyard listening on %s\n", srv.Addr())
	if cfg.Admin != "" {
		stopAdmin, err := serveAdmin(cfg.Admin, srv)
		if err != nil {
			return err
		}
		defer stopAdmin()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = srv.Serve(ctx)
	fmt.Println("switchyard stopped")
	return err
}

// serveAdmin runs the admin endpoints on their own listener.
func serveAdmin(addr string, srv *server.Server) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-admin: %w", err)
	}
	fmt.Printf("switchyard admin on http://%s (/metrics, /debug/pprof/, /healthz)\n", ln.Addr())
	hs := &http.Server{Handler: admin.Handler(srv), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return func() { _ = hs.Close() }, nil
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
