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
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

const rootText = "switchyard: HTTP/1.1 here; WebSocket echo at /echo\n"

// BenchRoutes installs the bench contract on srv: GET /, /echo as `switchyard serve` has
// them (echo with permessage-deflate offered, HTTP/2 enabled with default settings), and
// /pub + /sub for ws-broadcast, where a
// message sent on /pub is framed once (websocket.NewPreparedMessage) and fanned out to every
// /sub connection through a websocket.Hub.
func BenchRoutes(srv *server.Server) {
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		w.Header("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(rootText)
	}})
	echo := websocket.New(websocket.Handler{
		OnMessage:   func(c *websocket.Conn, m websocket.Message) { _ = c.Write(m.Op, m.Payload) },
		CheckOrigin: websocket.AllowAnyOrigin,
		Compression: &ws.DeflateConfig{},
	})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{echo}})
	hub := websocket.NewHub()
	srv.Route("/sub", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnOpen:      hub.Add,
		OnClose:     func(c *websocket.Conn, _ websocket.StatusCode, _ string) { hub.Remove(c) },
		CheckOrigin: websocket.AllowAnyOrigin,
		SendBudget:  4 << 20,
	})}})
	srv.Upgrade(http2.New(http2.Config{}))
	srv.Route("/pub", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: func(c *websocket.Conn, m websocket.Message) {
			hub.Broadcast(websocket.NewPreparedMessage(m.Op, m.Payload))
		},
		CheckOrigin: websocket.AllowAnyOrigin,
	})}})
}

func quietSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Serve runs switchyard with BenchRoutes at addr until SIGTERM or SIGINT, writing a CPU
// profile to cpuprofile when it is not empty. `switchyard bench -serve` runs it: the
// suite's broadcast server and the way to profile switchyard under any scenario.
func Serve(addr, cpuprofile string, loops int) error {
	// The whole program, as `switchyard serve` is: its loops may keep their P (HoldP).
	srv := server.New(server.Config{Addr: addr, Loops: loops, Logger: quietSlog(), HoldP: true})
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
