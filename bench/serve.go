package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/switchyard-dev/switchyard/frame/ws"
	"github.com/switchyard-dev/switchyard/server"
)

const rootText = "switchyard: HTTP/1.1 here; WebSocket echo at /echo\n"

// BenchRoutes installs the bench contract on srv: GET /, /echo as `switchyard serve` has
// them (echo with permessage-deflate offered, HTTP/2 enabled with default settings), and
// /pub + /sub for ws-broadcast, where a
// message sent on /pub is framed once (server.NewPreparedMessage) and fanned out to every
// /sub connection through a server.Hub.
func BenchRoutes(srv *server.Server) {
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(rootText)
	}})
	echo := server.WebSocket(server.WebSocketHandler{
		OnMessage:   func(c *server.WSConn, m server.Message) { _ = c.Reply(m.Op, m.Payload) },
		CheckOrigin: server.AllowAnyOrigin,
		Compression: &ws.DeflateConfig{},
	})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{echo}})
	hub := server.NewHub()
	srv.Route("/sub", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{server.WebSocket(server.WebSocketHandler{
		OnOpen:      hub.Add,
		OnClose:     func(c *server.WSConn, _ ws.StatusCode, _ string) { hub.Remove(c) },
		CheckOrigin: server.AllowAnyOrigin,
		SendBudget:  4 << 20,
	})}})
	srv.EnableHTTP2(server.H2Config{})
	srv.Route("/pub", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{server.WebSocket(server.WebSocketHandler{
		OnMessage: func(c *server.WSConn, m server.Message) {
			hub.Broadcast(server.NewPreparedMessage(m.Op, m.Payload, 0, 0))
		},
		CheckOrigin: server.AllowAnyOrigin,
	})}})
}

func quietSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Serve runs switchyard with BenchRoutes at addr until SIGTERM or SIGINT, writing a CPU
// profile to cpuprofile when it is not empty. `switchyard bench -serve` runs it: the
// suite's broadcast server and the way to profile switchyard under any scenario.
func Serve(addr, cpuprofile string, loops int) error {
	srv := server.New(server.Config{Addr: addr, Loops: loops, Logger: quietSlog()})
	BenchRoutes(srv)
	if err := srv.Listen(); err != nil {
		return err
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("switchyard (bench routes) listening on %s\n", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx)
}
