package h2

import (
	"bytes"
	"testing"
)

// Each encoder's output decodes back to what was encoded, and matches the
// hand-built bytes of the RFC layout.
func TestEncodeRoundTrip(t *testing.T) {
	ping := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	tests := []struct {
		name  string
		enc   []byte
		wire  []byte // independent construction of the same frame
		check func(t *testing.T, f *Frame)
	}{
		{name: "6.5 SETTINGS",
			enc:  AppendSettings(nil, Setting{SettingMaxConcurrentStreams, 100}, Setting{SettingInitialWindowSize, 1 << 20}),
			wire: raw(FrameSettings, 0, 0, cat(setting(SettingMaxConcurrentStreams, 100), setting(SettingInitialWindowSize, 1<<20))...),
			check: func(t *testing.T, f *Frame) {
				eq(t, f.NumSettings(), 2)
				eq(t, f.Setting(1), Setting{SettingInitialWindowSize, 1 << 20})
			}},
		{name: "6.5 SETTINGS empty", enc: AppendSettings(nil), wire: raw(FrameSettings, 0, 0)},
		{name: "6.5.3 SETTINGS ACK", enc: AppendSettingsAck(nil), wire: raw(FrameSettings, FlagAck, 0),
			check: func(t *testing.T, f *Frame) { eq(t, f.IsAck(), true) }},
		{name: "6.7 PING", enc: AppendPing(nil, false, ping), wire: raw(FramePing, 0, 0, ping[:]...),
			check: func(t *testing.T, f *Frame) { eq(t, f.PingData(), ping) }},
		{name: "6.7 PING ACK", enc: AppendPing(nil, true, ping), wire: raw(FramePing, FlagAck, 0, ping[:]...),
			check: func(t *testing.T, f *Frame) { eq(t, f.IsAck(), true) }},
		{name: "6.8 GOAWAY", enc: AppendGoAway(nil, 7, ErrCodeProtocol, []byte("bye")),
			wire: raw(FrameGoAway, 0, 0, cat(u32(7), u32(1), []byte("bye"))...),
			check: func(t *testing.T, f *Frame) {
				eq(t, f.LastStreamID(), uint32(7))
				eq(t, f.ErrCode(), ErrCodeProtocol)
				eq(t, string(f.DebugData()), "bye")
			}},
		{name: "6.4 RST_STREAM", enc: AppendRSTStream(nil, 3, ErrCodeRefusedStream),
			wire:  raw(FrameRSTStream, 0, 3, u32(7)...),
			check: func(t *testing.T, f *Frame) { eq(t, f.ErrCode(), ErrCodeRefusedStream) }},
		{name: "6.9 WINDOW_UPDATE", enc: AppendWindowUpdate(nil, 0, MaxWindowSize),
			wire:  raw(FrameWindowUpdate, 0, 0, u32(MaxWindowSize)...),
			check: func(t *testing.T, f *Frame) { eq(t, f.Increment(), uint32(MaxWindowSize)) }},
		{name: "6.3 PRIORITY", enc: AppendPriority(nil, 5, PriorityParam{StreamDep: 3, Exclusive: true, Weight: 9}),
			wire:  raw(FramePriority, 0, 5, cat(u32(3|1<<31), []byte{9})...),
			check: func(t *testing.T, f *Frame) { eq(t, f.Priority, PriorityParam{3, true, 9}) }},
		{name: "6.1 DATA", enc: AppendData(nil, 1, []byte("body"), true),
			wire:  raw(FrameData, FlagEndStream, 1, []byte("body")...),
			check: func(t *testing.T, f *Frame) { eq(t, string(f.Data()), "body"); eq(t, f.EndStream(), true) }},
		{name: "6.1 DATA header then caller's payload", enc: append(AppendDataHeader(nil, 1, 4, false), "body"...),
			wire:  raw(FrameData, 0, 1, []byte("body")...),
			check: func(t *testing.T, f *Frame) { eq(t, string(f.Data()), "body"); eq(t, f.EndStream(), false) }},
		{name: "6.2 HEADERS in one frame", enc: AppendHeaders(nil, 1, []byte{0x88}, true, 0),
			wire: raw(FrameHeaders, FlagEndHeaders|FlagEndStream, 1, 0x88),
			check: func(t *testing.T, f *Frame) {
				eq(t, string(f.HeaderBlockFragment()), "\x88")
				eq(t, f.EndHeaders(), true)
			}},
		{name: "4.1 reserved bit is never sent", enc: AppendRSTStream(nil, 1|1<<31, 0),
			wire: raw(FrameRSTStream, 0, 1, u32(0)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Equal(tc.enc, tc.wire) {
				t.Fatalf("encoded % x\nwant    % x", tc.enc, tc.wire)
			}
			f, n, err := ReadFrame(tc.enc, 0)
			if err != nil || n != len(tc.enc) {
				t.Fatalf("decode: n=%d err=%v", n, err)
			}
			if tc.check != nil {
				tc.check(t, &f)
			}
		})
	}
}

// §4.3, §6.10: a block larger than the peer's max frame size is split into
// HEADERS plus CONTINUATION frames; END_STREAM rides on HEADERS, END_HEADERS
// on the last frame.
func TestAppendHeadersSplitsIntoContinuation(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		max       uint32
		wantSizes []int
	}{
		{"6.2 empty block is one HEADERS", 0, 0, []int{0}},
		{"6.2 block of exactly max frame size is one HEADERS", 16384, 16384, []int{16384}},
		{"6.10 one byte over max needs a CONTINUATION", 16385, 16384, []int{16384, 1}},
		{"6.10 large block over several CONTINUATIONs", 40000, 16384, []int{16384, 16384, 7232}},
		{"6.10 exact multiple of max", 32768, 16384, []int{16384, 16384}},
		{"6.5.2 peer's larger max frame size is used", 40000, 20000, []int{20000, 20000}},
	}
	for _, tc := range tests {
		for _, endStream := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				block := make([]byte, tc.size)
				for i := range block {
					block[i] = byte(i * 7)
				}
				wire := AppendHeaders([]byte("prefix"), 9, block, endStream, tc.max)
				if string(wire[:6]) != "prefix" {
					t.Fatal("dst prefix overwritten")
				}
				d := Decoder{MaxFrameSize: max(tc.max, MinMaxFrameSize)}
				var got []byte
				b := wire[6:]
				for i, want := range tc.wantSizes {
					f, n, err := d.ReadFrame(b)
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					wantType := FrameContinuation
					if i == 0 {
						wantType = FrameHeaders
						eq(t, f.EndStream(), endStream)
					}
					eq(t, f.Type, wantType)
					eq(t, f.StreamID, uint32(9))
					eq(t, int(f.Length), want)
					eq(t, f.EndHeaders(), i == len(tc.wantSizes)-1)
					got = append(got, f.HeaderBlockFragment()...)
					b = b[n:]
				}
				if len(b) != 0 {
					t.Fatalf("%d bytes after the expected frames", len(b))
				}
				if !bytes.Equal(got, block) {
					t.Fatal("reassembled block differs")
				}
			})
		}
	}
}

func TestFrameHeaderCodec(t *testing.T) {
	h := FrameHeader{Length: 0xabcdef, Type: FrameGoAway, Flags: 0x5a, StreamID: 0x7fffffff}
	var b [FrameHeaderLen]byte
	PutFrameHeader(&b, h)
	if got := AppendFrameHeader(nil, h); !bytes.Equal(got, b[:]) {
		t.Fatalf("AppendFrameHeader % x != PutFrameHeader % x", got, b)
	}
	eq(t, string(b[:]), "\xab\xcd\xef\x07\x5a\x7f\xff\xff\xff")
	got, ok := DecodeFrameHeader(b[:])
	eq(t, ok, true)
	eq(t, got, h)
	if _, ok := DecodeFrameHeader(b[:8]); ok {
		t.Fatal("DecodeFrameHeader accepted 8 bytes")
	}
}

func TestNames(t *testing.T) {
	eq(t, FrameWindowUpdate.String(), "WINDOW_UPDATE")
	eq(t, FramePriorityUpdate.String(), "PRIORITY_UPDATE")
	eq(t, FrameType(0xfa).String(), "UNKNOWN_FRAME_TYPE_250")
	eq(t, FrameType(0xb).String(), "UNKNOWN_FRAME_TYPE_11")
	eq(t, ErrCodeHTTP11Required.String(), "HTTP_1_1_REQUIRED")
	eq(t, ErrCodeNo.String(), "NO_ERROR")
	eq(t, ErrCode(0x1f).String(), "UNKNOWN_ERROR_0x1f")
	eq(t, SettingMaxHeaderListSize.String(), "MAX_HEADER_LIST_SIZE")
	eq(t, SettingID(7).String(), "UNKNOWN_SETTING_7")
	eq(t, StreamError{3, ErrCodeCancel, "x"}.Error(), "h2: stream error on stream 3 CANCEL: x")
	eq(t, ConnectionError{ErrCodeProtocol, "y"}.Error(), "h2: connection error PROTOCOL_ERROR: y")
}
