package servertest

import (
	"bytes"
	"os"
	"strconv"
	"testing"
)

// WriteCalls is the process's count of write system calls so far (write, writev, ...),
// as the kernel keeps it in /proc/self/io: a test that expects output to leave in few
// writes compares two readings.
func WriteCalls(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("syscw: ")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no syscw in /proc/self/io")
	return 0
}
