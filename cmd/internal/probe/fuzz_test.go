package probe

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
)

// FuzzRun answers every probe with the same arbitrary bytes: whatever a server sends,
// Run must return a complete report, in bounded time, without panicking.
func FuzzRun(f *testing.F) {
	settings := string(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingMaxConcurrentStreams, Val: 10}))
	h2wsSeed := string(h2.AppendData(h2.AppendHeaders(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingEnableConnectProtocol, Val: 1}),
		1, []byte{0x88}, false, h2.MinMaxFrameSize), // 0x88: :status 200, HPACK static index 8
		1, []byte("\x8a\x12switchyard-probe 1\x81\x15switchyard-probe echo\x8a\x12switchyard-probe 2\x88\x02\x03\xe8"), true))
	for _, seed := range []string{
		"",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi\n",
		"HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 20\r\n\r\nno Upgrade header..\n",
		"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbad \"\r\n0\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n\x88\x02\x03\xe8",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x88\xfe\xff\xff",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n" + settings,
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x00\x00\x05\x01\x05\x00\x00\x00\x01\x88\x82\x84\x86\x41",
		settings + string(h2.AppendGoAway(nil, 0, h2.ErrCodeProtocol, []byte("bye"))),
		"HTTP/1.0 505 HTTP Version Not Supported\r\n\r\n",
		"\x00\x00\x00\x00",
		h2wsSeed, // RFC 8441: the setting, 200 to extended CONNECT, pongs, echo, close, END_STREAM
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			client, srv := net.Pipe()
			go func() {
				defer srv.Close()
				go func() { _, _ = io.Copy(io.Discard, srv) }()
				_ = srv.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = srv.Write(answer)
			}()
			return client, nil
		}
		r, err := Run(context.Background(), "http://fuzz.example/", Options{Timeout: 200 * time.Millisecond, Dial: dial})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Probes) != 9 || len(r.Findings) == 0 {
			t.Fatalf("%d probes, %d findings", len(r.Probes), len(r.Findings))
		}
		for _, p := range r.Probes {
			if p.Verdict.Code == "" {
				t.Fatalf("probe %s has no verdict", p.ID)
			}
		}
		if err := r.WriteText(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
