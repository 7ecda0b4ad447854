package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/admin"
)

// parseServeArgs loads -config first, then parses the flags straight into the loaded
// config: a flag given on the command line overrides the file, one not given leaves it.
func parseServeArgs(args []string) (*serveConfig, error) {
	cfg := &serveConfig{Addr: ":8080", LogLevel: "info"}
	if path := configArg(args); path != "" {
		if err := loadConfigFile(path, cfg); err != nil {
			return nil, err
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.String("config", "", "JSON config file (routes, limits, timeouts, policies); flags override it")
	origins := fs.String("origins", "", "comma-separated Origin values the default /echo accepts (default: any)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on: host:port, or unix:/path/to/socket for a Unix-domain socket (a stale socket file is replaced; the file is removed at exit)")
	fs.Var(&cfg.UnixMode, "unix-mode", "`octal` permission bits of unix: addresses' socket files, e.g. 0660 (default: the umask's)")
	fs.StringVar(&cfg.Admin, "admin", cfg.Admin, "admin listener for /metrics, /debug/pprof/ and /healthz, e.g. 127.0.0.1:9090 (off by default)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug (shows why requests were refused), info, warn, error")
	fs.BoolVar(&cfg.AccessLog, "access-log", cfg.AccessLog, "log a line per answered request (at info, whatever -log-level says), to the same output as the server's log")
	fs.IntVar(&cfg.Loops, "loops", cfg.Loops, "event loops (0: one per CPU)")
	fs.BoolVar(&cfg.ReusePort, "reuseport", cfg.ReusePort, "a listening socket per event loop (SO_REUSEPORT; not with a unix: address)")
	fs.IntVar(&cfg.IdleSpins, "idle-spins", cfg.IdleSpins, "polls an idle loop makes, yielding the CPU, before it sleeps (0: default 50; -1: sleep at once)")
	fs.Func("hold-p", "true or false: loops sleep keeping their Go P while busy (default: true, false with -nats)", func(v string) error {
		on, err := strconv.ParseBool(v)
		cfg.HoldP = &on
		return err
	})
	fs.Func("return-memory", "true or false: the spare heap goes back to the OS once a burst of 1,000+ connections has settled (default: true)", func(v string) error {
		on, err := strconv.ParseBool(v)
		cfg.ReturnMemory = &on
		return err
	})
	fs.IntVar(&cfg.MaxConns, "max-conns", cfg.MaxConns, "maximum open connections per listener; more get 503, or are closed over TLS (0: no cap)")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", cfg.MaxConnsPerIP, "maximum open connections of one client address (the PROXY header's with -proxy-protocol); more get 503, or are closed over TLS (0: no cap)")
	fs.BoolVar(&cfg.ProxyProtocol, "proxy-protocol", cfg.ProxyProtocol, "every connection begins with a PROXY protocol header (v1 or v2) naming the client; only behind a balancer that always sends one")
	durationFlag(fs, &cfg.Timeouts.Header, "header-timeout", "time allowed for a request head (default 10s)")
	durationFlag(fs, &cfg.Timeouts.Body, "body-timeout", "time a request body may take from its start, extended by what arrives at 16 KiB/s or faster (default 30s)")
	durationFlag(fs, &cfg.Timeouts.Idle, "idle-timeout", "keep-alive idle timeout (default 60s)")
	durationFlag(fs, &cfg.Timeouts.Shutdown, "shutdown-timeout", "graceful shutdown limit on SIGINT/SIGTERM (default 10s)")
	fs.IntVar(&cfg.Limits.MaxRequestLine, "max-request-line", cfg.Limits.MaxRequestLine, "request line limit in bytes (414; 0: 8192)")
	fs.IntVar(&cfg.Limits.MaxHeaderBytes, "max-header-bytes", cfg.Limits.MaxHeaderBytes, "header block limit in bytes (431; 0: 16384)")
	fs.IntVar(&cfg.Limits.MaxHeaders, "max-headers", cfg.Limits.MaxHeaders, "header field count limit (431; 0: 100)")
	fs.Int64Var(&cfg.Limits.MaxBody, "max-body", cfg.Limits.MaxBody, "request body limit in bytes (413; 0: 4 MiB)")
	fs.IntVar(&cfg.Limits.MinBodyRate, "min-body-rate", cfg.Limits.MinBodyRate, "bytes per second a request body must keep up on average past -body-timeout (408; 0: 16384)")
	fs.BoolVar(&cfg.Limits.AllowBareLF, "allow-bare-lf", cfg.Limits.AllowBareLF, "accept bare LF line endings (RFC 9112 §2.2 leniency)")
	fs.Func("h2-max-streams", "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default 100)", func(v string) error {
		_, err := fmt.Sscan(v, &cfg.HTTP2.MaxConcurrentStreams)
		return err
	})
	fs.StringVar(&cfg.NATS, "nats", cfg.NATS, "NATS server (nats://host:port) that makes every broadcast route one room across nodes")
	fs.BoolVar(&cfg.HTTP2.Disabled, "no-http2", cfg.HTTP2.Disabled, "do not accept HTTP/2 (h2c upgrade or prior knowledge)")
	cfg.TLS.flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o := splitList(*origins); len(o) > 0 {
		if len(cfg.Routes) > 0 {
			return nil, errors.New("-origins applies to the default routes; set websocket.origins per route in the config file")
		}
		cfg.Routes = []routeConfig{defaultRoutes[0], {Path: "/echo", Kind: "echo", WebSocket: &websocketConfig{Origins: o}}}
	}
	return cfg, cfg.validate()
}

// configArg finds -config's value in args ("-config f", "-config=f", or with "--"), so
// the file can be loaded before the flags that override it are parsed.
func configArg(args []string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
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
	var servers []*server.Server
	var plain *server.Server
	if cfg.Addr != "" {
		plain = server.New(cfg.serverConfig())
		servers = append(servers, plain)
	}
	var secure *server.Server
	var cf *server.CertificateFile // what SIGHUP reloads, if TLS reads files
	if cfg.TLS.enabled() {
		var tc *tls.Config
		var err error
		if tc, cf, err = cfg.TLS.config(); err != nil {
			return err
		}
		sc := cfg.serverConfig()
		sc.Addr, sc.TLS = cfg.TLS.Addr, tc
		if sc.Addr == "" {
			sc.Addr = ":8443"
		}
		secure = server.New(sc)
		servers = append(servers, secure)
	}
	if len(servers) == 0 {
		return errors.New("nothing to listen on: -addr is empty and TLS is off (-tls-cert/-tls-key or -tls-self-signed)")
	}
	if cfg.NATS != "" {
		stopRooms, err := startNATSRooms(cfg)
		if err != nil {
			return err
		}
		defer stopRooms()
	}
	// The signals are taken before the server says it listens, so that whoever starts
	// it and then signals it meets these handlers, not the signals' default actions.
	// SIGHUP reloads the certificate files, or is said to have nothing to reload: its
	// default action would end the server without a drain.
	defer watchReload(cf)()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first SIGINT or SIGTERM starts the graceful shutdown; a second one ends the
		// process at once, for an operator who will not wait for the drain.
		<-ctx.Done()
		again := make(chan os.Signal, 1)
		signal.Notify(again, syscall.SIGINT, syscall.SIGTERM)
		<-again
		fmt.Fprintln(os.Stderr, "switchyard: second signal: stopping without waiting for the drain")
		os.Exit(1)
	}()
	installRoutes(servers[0], cfg, servers[1:]...)
	for _, srv := range servers {
		if err := srv.Listen(); err != nil {
			return err
		}
	}
	if plain != nil {
		fmt.Printf("switchyard listening on %s\n", shownAddr(plain.Addr()))
	}
	if secure != nil {
		fmt.Printf("switchyard TLS listening on %s (https and wss; HTTP/2 by ALPN)\n", shownAddr(secure.Addr()))
	}
	if cfg.Admin != "" {
		stopAdmin, err := serveAdmin(cfg.Admin, servers[0], servers[1:]...)
		if err != nil {
			return err
		}
		defer stopAdmin()
	}
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errs <- srv.Serve(ctx) }()
	}
	var all []error
	for range servers {
		if err := <-errs; err != nil {
			all = append(all, err)
			stop() // one listener failing stops the other too
		}
	}
	if cfg.accessOut != nil {
		cfg.accessOut.flush(nil) // the last requests' lines
	}
	fmt.Println("switchyard stopped")
	return errors.Join(all...)
}

// serveAdmin runs the admin endpoints on their own listener; the metrics sum srv's and
// more's counters (the TLS listener's server).
func serveAdmin(addr string, srv *server.Server, more ...*server.Server) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-admin: %w", err)
	}
	fmt.Printf("switchyard admin on http://%s (/metrics, /debug/pprof/, /healthz)\n", ln.Addr())
	hs := &http.Server{Handler: admin.HandlerWith(adminCollectors(), srv, more...), ReadHeaderTimeout: 10 * time.Second}
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
