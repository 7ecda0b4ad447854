package h2

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// decodeStream reads every frame of b through one Decoder; it is the unit
// of work of the decode benchmarks and allocation budget.
func decodeStream(d *Decoder, b []byte) int {
	frames := 0
	for len(b) > 0 {
		_, n, err := d.ReadFrame(b)
		if err != nil {
			panic(err)
		}
		b = b[n:]
		frames++
	}
	return frames
}

// Allocation budgets of the hot paths (design: hot paths do not allocate).
func TestAllocBudgets(t *testing.T) {
	stream := mixedStream()
	dst := make([]byte, 0, 64<<10)
	block := bytes.Repeat([]byte{0x82}, 40000)
	body := make([]byte, 1000)
	connBad := raw(FrameData, 0, 0, 1)
	streamBad := raw(FrameWindowUpdate, 0, 1, 0, 0, 0, 0)
	var d Decoder
	tests := []struct {
		name string
		max  float64
		fn   func()
	}{
		{"decode mixed frames", 0, func() { decodeStream(&d, stream) }},
		{"decode connection error", 0, func() { _, _, _ = ReadFrame(connBad, 0) }},
		{"decode incomplete", 0, func() { _, _, _ = ReadFrame(stream[:20], 0) }},
		{"encode SETTINGS", 0, func() {
			dst = AppendSettings(dst[:0], Setting{SettingMaxConcurrentStreams, 100}, Setting{SettingInitialWindowSize, 1 << 20})
		}},
		{"encode SETTINGS ACK, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY", 0, func() {
			dst = AppendSettingsAck(dst[:0])
			dst = AppendPing(dst, true, [8]byte{1})
			dst = AppendWindowUpdate(dst, 1, 100)
			dst = AppendRSTStream(dst, 1, ErrCodeCancel)
			dst = AppendGoAway(dst, 1, ErrCodeNo, nil)
		}},
		{"encode HEADERS split into CONTINUATION", 0, func() { dst = AppendHeaders(dst[:0], 1, block, true, 0) }},
		{"encode DATA header and DATA", 0, func() {
			dst = AppendDataHeader(dst[:0], 1, 1000, false)
			dst = AppendData(dst, 1, body, true)
		}},
		// A stream error carries a stream ID, so it is boxed when returned:
		// one small allocation per offending frame, never on valid input.
		{"decode stream error", 1, func() { _, _, _ = ReadFrame(streamBad, 0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tc.fn); n > tc.max {
				t.Fatalf("%v allocs/op, budget %v", n, tc.max)
			}
		})
	}
}

func BenchmarkReadFrameMixed(b *testing.B) {
	stream := mixedStream()
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		decodeStream(&d, stream)
	}
}

func BenchmarkAppendHeaders(b *testing.B) {
	block := bytes.Repeat([]byte{0x82}, 100)
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendHeaders(dst[:0], 1, block, false, 0)
	}
}

func BenchmarkAppendDataHeader(b *testing.B) {
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendDataHeader(dst[:0], 1, 16384, false)
	}
}

func BenchmarkAppendData1K(b *testing.B) {
	body := make([]byte, 1024)
	dst := make([]byte, 0, 2048)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendData(dst[:0], 1, body, true)
	}
}

func BenchmarkAppendSettings(b *testing.B) {
	dst := make([]byte, 0, 64)
	s := DefaultSettings()
	s.MaxConcurrentStreams, s.InitialWindowSize = 100, 1<<20
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendSettingsDiff(dst[:0], &s)
	}
}

// A typical response through HPACK and framing, as a server sends it per
// request.
func BenchmarkHeaderEncoderResponse(b *testing.B) {
	e := NewHeaderEncoder()
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		e.WriteStatus(200)
		e.WriteField("content-type", "text/plain; charset=utf-8")
		e.WriteField("server", "switchyard")
		e.WriteFieldUnindexed("content-length", "1234")
		dst = e.AppendHeaders(dst[:0], 1, false, 0)
	}
}

// BenchmarkHeaderEncoderResponse through hpack.Encoder, which HeaderEncoder replaced.
func BenchmarkXNetHeaderEncoderResponse(b *testing.B) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		_ = enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "text/plain; charset=utf-8"})
		_ = enc.WriteField(hpack.HeaderField{Name: "server", Value: "switchyard"})
		_ = enc.WriteField(hpack.HeaderField{Name: "content-length", Value: "1234", Sensitive: true})
		dst = AppendHeaders(dst[:0], 1, buf.Bytes(), false, 0)
	}
}

// A repeated request from a peer that indexes its fields (curl, browsers).
func BenchmarkHeaderDecoderRequest(b *testing.B) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	fields := req("accept", "*/*", "user-agent", "bench/1.0", "accept-encoding", "gzip")
	var blocks [2][]byte
	for i := range blocks {
		buf.Reset()
		for j := 0; j < len(fields); j += 2 {
			_ = enc.WriteField(hpack.HeaderField{Name: fields[j], Value: fields[j+1]})
		}
		blocks[i] = append([]byte(nil), buf.Bytes()...)
	}
	d := NewHeaderDecoder(4096, 0)
	decode := func(block []byte) {
		d.Begin(1, false, true)
		if err := d.Write(block); err != nil {
			b.Fatal(err)
		}
		if _, err := d.End(); err != nil {
			b.Fatal(err)
		}
	}
	decode(blocks[0])
	b.ReportAllocs()
	for b.Loop() {
		decode(blocks[1])
	}
}

// A server's response on connections that have been open for minutes: each second's
// date is a new dynamic entry, so a table is full of dates and the other fields sit
// behind them (or were evicted and come back as new entries). Each response goes to the
// next of 8,192 connections, whose tables are not in the cache by then, as on a server
// whose connections each send now and then.
func BenchmarkHeaderEncoderResponseFullTable(b *testing.B) {
	encoders := make([]*HeaderEncoder, 8192)
	dst := make([]byte, 0, 256)
	dates := make([][]byte, 200)
	for i := range dates {
		dates[i] = fmt.Appendf(nil, "Mon, 07 Dec 2026 %02d:%02d:%02d GMT", 18+i/3600, i/60%60, i%60)
	}
	response := func(e *HeaderEncoder, date []byte) {
		e.Reset()
		e.WriteStatus(200)
		e.WriteFieldBytes([]byte("content-type"), []byte("text/plain; charset=utf-8"))
		e.WriteFieldBytes([]byte("date"), date)
		e.WriteFieldBytes([]byte("server"), []byte("switchyard"))
		e.WriteFieldBytes([]byte("content-length"), []byte("68"))
		dst = e.AppendHeaders(dst[:0], 1, false, 0)
	}
	for i := range encoders {
		encoders[i] = NewHeaderEncoder()
		for _, d := range dates[:len(dates)-1-i%7] {
			response(encoders[i], d)
		}
	}
	last := dates[len(dates)-1]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		response(encoders[i%len(encoders)], last)
		i++
	}
}
