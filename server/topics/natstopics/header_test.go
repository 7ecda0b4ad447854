package natstopics

import (
	"bytes"
	"testing"

	"github.com/switchyard-dev/switchyard/server/websocket"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []header{
		{op: websocket.OpText, node: 1, seq: 1},
		{op: websocket.OpBinary, node: 0xfedcba9876543210, seq: 1<<64 - 1},
	} {
		b := make([]byte, headerLen, headerLen+3)
		putHeader(b, h)
		b = append(b, "abc"...)
		got, payload, ok := parseHeader(b)
		if !ok || got != h || string(payload) != "abc" {
			t.Fatalf("%+v: parsed %+v %q %v", h, got, payload, ok)
		}
	}
}

func TestParseHeaderRefusesOtherData(t *testing.T) {
	valid := make([]byte, headerLen)
	putHeader(valid, header{op: websocket.OpText, node: 7, seq: 9})
	for name, data := range map[string][]byte{
		"empty":       nil,
		"short":       valid[:headerLen-1],
		"other magic": append([]byte{'{'}, valid[1:]...),
		"close op":    append([]byte{headerMagic, 8}, valid[2:]...),
		"seq 0":       append(bytes.Clone(valid[:10]), make([]byte, 8)...),
		"plain text":  []byte("hello, this is not ours"),
	} {
		if _, _, ok := parseHeader(data); ok {
			t.Errorf("%s: accepted %x", name, data)
		}
	}
}

// The header decoder takes anything NATS brings without panicking, and what it accepts
// writes back to the same bytes.
func FuzzParseHeader(f *testing.F) {
	b := make([]byte, headerLen)
	putHeader(b, header{op: websocket.OpBinary, node: 3, seq: 4})
	f.Add(append(b, "payload"...))
	f.Add([]byte("not a header at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, payload, ok := parseHeader(data)
		if !ok {
			return
		}
		again := make([]byte, headerLen)
		putHeader(again, h)
		if !bytes.Equal(again, data[:headerLen]) || !bytes.Equal(payload, data[headerLen:]) {
			t.Fatalf("%x parsed as %+v %x", data, h, payload)
		}
	})
}

func TestSubjectIsOneLiteralTokenPerTopic(t *testing.T) {
	for topic, want := range map[string]string{
		"/room":         "switchyard./room",
		"/rooms/{id}":   "switchyard./rooms/{id}",
		"a.b":           "switchyard.a%2Eb",
		"*":             "switchyard.%2A",
		"x > y":         "switchyard.x%20%3E%20y",
		"100%":          "switchyard.100%25",
		"":              "switchyard.%",
		"caf\xc3\xa9":   "switchyard.caf%C3%A9",
		"tab\there\r\n": "switchyard.tab%09here%0D%0A",
	} {
		if got := subject("switchyard", topic); got != want {
			t.Errorf("subject(%q) = %q, want %q", topic, got, want)
		}
	}
}
