package hostile

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

func TestScratchBroadcast(t *testing.T) {
	os.Setenv("GODEBUG", "gctrace=1")
	srv := startServer(t, chatConfig, "-admin", "127.0.0.1:19091")
	os.Setenv("GODEBUG", "")
	s := besiege(t, srv, nil)
	for range 50 {
		if _, err := upgradeWS(dialNonReader(t, srv.addr), "/chat", ""); err != nil {
			t.Fatal(err)
		}
	}
	publisher := dialWS(t, srv.addr, "/chat", "")
	go func() { _, _ = io.Copy(io.Discard, publisher.br) }()
	msg := bytes.Repeat([]byte("flood"), 13)[:64]
	var chunk []byte
	for range 1000 {
		chunk = publisher.frame(chunk, ws.OpBinary, 0, msg)
	}
	var f flooded
	rep := s.during(func() {
		f = flood(publisher.c, 100000, time.Now().Add(10*time.Second), func(int) []byte { return chunk })
		time.Sleep(1 * time.Second)
		resp, err := http.Get("http://127.0.0.1:19091/debug/pprof/heap?gc=1")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			os.WriteFile("/tmp/bheap.pprof", b, 0o644)
		}
		resp, err = http.Get("http://127.0.0.1:19091/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			os.WriteFile("/tmp/bmetrics.txt", b, 0o644)
		}
		st, _ := os.ReadFile("/proc/" + itoa(srv.pid) + "/status")
		os.WriteFile("/tmp/bstatus.txt", st, 0o644)
	})
	t.Logf("%v", f)
	rep.check(t, "scratch", 0)
	os.WriteFile("/tmp/bserver.txt", []byte(srv.out.String()), 0o644)
	_ = exec.Command
}

func itoa(i int) string { return string(bytes.TrimSpace([]byte(func() string { return fmtInt(i) }()))) }
func fmtInt(i int) string {
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}
