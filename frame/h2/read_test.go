package h2

import (
	"bytes"
	"strings"
	"testing"
)

type readCase struct {
	name   string
	in     []byte
	max    uint32 // 0: default
	kind   errKind
	code   ErrCode
	stream uint32 // for stream errors
	check  func(t *testing.T, f *Frame)
}

var zeros8 = make([]byte, 8)

// readCases are named after the rule they check; they also seed FuzzReadFrame.
var readCases = []readCase{
	// §4.1 Frame format
	{name: "4.1 reserved stream-ID bit is ignored", in: raw(FrameData, 0, 1|1<<31, 'x'),
		check: func(t *testing.T, f *Frame) { eq(t, f.StreamID, uint32(1)) }},
	{name: "4.1 undefined flags are ignored", in: raw(FrameData, 0x2|0x40|FlagEndStream, 1, 'x'),
		check: func(t *testing.T, f *Frame) { eq(t, string(f.Data()), "x"); eq(t, f.EndStream(), true) }},
	{name: "4.1 unknown frame type is returned for discarding", in: raw(0xfa, 0xff, 3, 1, 2, 3),
		check: func(t *testing.T, f *Frame) {
			eq(t, f.Type.Known(), false)
			eq(t, string(f.Payload()), "\x01\x02\x03")
		}},
	{name: "4.1 unknown frame type on stream 0", in: raw(0x20, 0, 0)},

	// §4.2 Frame size
	{name: "4.2 frame of exactly SETTINGS_MAX_FRAME_SIZE is accepted",
		in:    append(rawLen(FrameData, 0, 1, MinMaxFrameSize), make([]byte, MinMaxFrameSize)...),
		check: func(t *testing.T, f *Frame) { eq(t, len(f.Data()), MinMaxFrameSize) }},
	{name: "4.2 DATA above SETTINGS_MAX_FRAME_SIZE is FRAME_SIZE_ERROR, refused from its header",
		in: rawLen(FrameData, 0, 1, MinMaxFrameSize+1), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "4.2 HEADERS above SETTINGS_MAX_FRAME_SIZE is a connection error",
		in: rawLen(FrameHeaders, FlagEndHeaders, 1, MinMaxFrameSize+1), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "4.2 frame above the default is accepted when a larger max was advertised", max: 20000,
		in: append(rawLen(FrameData, 0, 1, 20000), make([]byte, 20000)...)},
	{name: "4.2 advertised max is honoured", max: 20000,
		in: rawLen(FrameData, 0, 1, 20001), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "4.2 max below the RFC minimum is raised to 16384", max: 100,
		in: append(rawLen(FrameData, 0, 1, 200), make([]byte, 200)...)},

	// §6.1 DATA
	{name: "6.1 DATA data and END_STREAM", in: raw(FrameData, FlagEndStream, 1, 'h', 'i'),
		check: func(t *testing.T, f *Frame) { eq(t, string(f.Data()), "hi"); eq(t, f.EndStream(), true) }},
	{name: "6.1 DATA padding is stripped", in: raw(FrameData, FlagPadded, 1, 3, 'h', 'i', 0, 0, 0),
		check: func(t *testing.T, f *Frame) {
			eq(t, string(f.Data()), "hi")
			eq(t, f.Length, uint32(6)) // flow control counts padding (§6.9.1)
		}},
	{name: "6.1 DATA padding may fill the rest of the payload", in: raw(FrameData, FlagPadded, 1, 2, 0, 0),
		check: func(t *testing.T, f *Frame) { eq(t, len(f.Data()), 0) }},
	{name: "6.1 DATA pad length >= payload length is PROTOCOL_ERROR",
		in: raw(FrameData, FlagPadded, 1, 3, 0, 0), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.1 DATA PADDED without Pad Length octet is FRAME_SIZE_ERROR",
		in: raw(FrameData, FlagPadded, 1), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.1 DATA on stream 0 is PROTOCOL_ERROR",
		in: raw(FrameData, 0, 0, 'x'), kind: connErrKind, code: ErrCodeProtocol},

	// §6.2 HEADERS
	{name: "6.2 HEADERS fragment and flags", in: raw(FrameHeaders, FlagEndHeaders|FlagEndStream, 1, 0x82, 0x84),
		check: func(t *testing.T, f *Frame) {
			eq(t, string(f.HeaderBlockFragment()), "\x82\x84")
			eq(t, f.EndHeaders(), true)
			eq(t, f.EndStream(), true)
			eq(t, f.HasPriority(), false)
		}},
	{name: "6.2 HEADERS padding and priority are stripped, priority decoded",
		in: raw(FrameHeaders, FlagEndHeaders|FlagPadded|FlagPriority, 5, cat([]byte{2}, u32(3|1<<31), []byte{15, 0x82, 0, 0})...),
		check: func(t *testing.T, f *Frame) {
			eq(t, string(f.HeaderBlockFragment()), "\x82")
			eq(t, f.Priority, PriorityParam{StreamDep: 3, Exclusive: true, Weight: 15})
			eq(t, f.HasPriority(), true)
		}},
	{name: "6.2 HEADERS priority without padding",
		in: raw(FrameHeaders, FlagPriority, 5, cat(u32(1), []byte{200, 0x82})...),
		check: func(t *testing.T, f *Frame) {
			eq(t, string(f.HeaderBlockFragment()), "\x82")
			eq(t, f.Priority, PriorityParam{StreamDep: 1, Weight: 200})
		}},
	{name: "6.2 HEADERS on stream 0 is PROTOCOL_ERROR",
		in: raw(FrameHeaders, FlagEndHeaders, 0, 0x82), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.2 HEADERS too short for priority fields is FRAME_SIZE_ERROR",
		in: raw(FrameHeaders, FlagPriority, 1, 0, 0, 0, 1), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.2 HEADERS padding longer than the fragment is PROTOCOL_ERROR",
		in: raw(FrameHeaders, FlagPadded, 1, 2, 0x82), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.2 HEADERS padding eating into the priority fields is PROTOCOL_ERROR",
		in:   raw(FrameHeaders, FlagPadded|FlagPriority, 1, cat([]byte{1}, u32(3), []byte{0})...),
		kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.2 HEADERS PADDED and empty is FRAME_SIZE_ERROR",
		in: raw(FrameHeaders, FlagPadded, 1), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "RFC 7540 5.3.1 HEADERS depending on its own stream is a stream PROTOCOL_ERROR, frame kept",
		in:   raw(FrameHeaders, FlagPriority|FlagEndHeaders, 3, cat(u32(3), []byte{0, 0x82})...),
		kind: streamErrKind, code: ErrCodeProtocol, stream: 3,
		check: func(t *testing.T, f *Frame) { eq(t, string(f.HeaderBlockFragment()), "\x82") }},

	// §6.3 PRIORITY
	{name: "6.3 PRIORITY fields", in: raw(FramePriority, 0, 3, cat(u32(1|1<<31), []byte{7})...),
		check: func(t *testing.T, f *Frame) {
			eq(t, f.Priority, PriorityParam{StreamDep: 1, Exclusive: true, Weight: 7})
		}},
	{name: "6.3 PRIORITY on stream 0 is PROTOCOL_ERROR",
		in: raw(FramePriority, 0, 0, 0, 0, 0, 1, 7), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.3 PRIORITY of length 4 is a stream FRAME_SIZE_ERROR",
		in: raw(FramePriority, 0, 3, 0, 0, 0, 1), kind: streamErrKind, code: ErrCodeFrameSize, stream: 3},
	{name: "6.3 PRIORITY of length 6 is a stream FRAME_SIZE_ERROR",
		in: raw(FramePriority, 0, 3, 0, 0, 0, 1, 7, 7), kind: streamErrKind, code: ErrCodeFrameSize, stream: 3},
	{name: "RFC 7540 5.3.1 PRIORITY depending on its own stream is a stream PROTOCOL_ERROR",
		in: raw(FramePriority, 0, 3, 0, 0, 0, 3, 7), kind: streamErrKind, code: ErrCodeProtocol, stream: 3},

	// §6.4 RST_STREAM
	{name: "6.4 RST_STREAM error code", in: raw(FrameRSTStream, 0, 1, u32(uint32(ErrCodeCancel))...),
		check: func(t *testing.T, f *Frame) { eq(t, f.ErrCode(), ErrCodeCancel) }},
	{name: "6.4 RST_STREAM on stream 0 is PROTOCOL_ERROR",
		in: raw(FrameRSTStream, 0, 0, u32(8)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.4 RST_STREAM of length 3 is FRAME_SIZE_ERROR",
		in: raw(FrameRSTStream, 0, 1, 0, 0, 8), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.4 RST_STREAM of length 5 is FRAME_SIZE_ERROR",
		in: raw(FrameRSTStream, 0, 1, 0, 0, 0, 8, 0), kind: connErrKind, code: ErrCodeFrameSize},

	// §6.5 SETTINGS
	{name: "6.5 SETTINGS parameters are iterated in order",
		in: raw(FrameSettings, 0, 0, cat(setting(SettingMaxConcurrentStreams, 100), setting(SettingInitialWindowSize, 1<<20))...),
		check: func(t *testing.T, f *Frame) {
			eq(t, f.NumSettings(), 2)
			eq(t, f.Setting(0), Setting{SettingMaxConcurrentStreams, 100})
			eq(t, f.Setting(1), Setting{SettingInitialWindowSize, 1 << 20})
			eq(t, f.IsAck(), false)
		}},
	{name: "6.5 SETTINGS ACK", in: raw(FrameSettings, FlagAck, 0),
		check: func(t *testing.T, f *Frame) { eq(t, f.IsAck(), true); eq(t, f.NumSettings(), 0) }},
	{name: "6.5 SETTINGS ACK with payload is FRAME_SIZE_ERROR",
		in: raw(FrameSettings, FlagAck, 0, setting(SettingEnablePush, 0)...), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.5 SETTINGS on a stream is PROTOCOL_ERROR",
		in: raw(FrameSettings, 0, 1, setting(SettingEnablePush, 0)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.5 SETTINGS length not a multiple of 6 is FRAME_SIZE_ERROR",
		in: raw(FrameSettings, 0, 0, 0, 2, 0, 0, 0), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.5.2 unknown setting is ignored",
		in:    raw(FrameSettings, 0, 0, setting(0xff, 12345)...),
		check: func(t *testing.T, f *Frame) { eq(t, f.Setting(0), Setting{0xff, 12345}) }},
	{name: "6.5.2 ENABLE_PUSH 2 is PROTOCOL_ERROR",
		in: raw(FrameSettings, 0, 0, setting(SettingEnablePush, 2)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.5.2 INITIAL_WINDOW_SIZE 2^31-1 is accepted",
		in: raw(FrameSettings, 0, 0, setting(SettingInitialWindowSize, 1<<31-1)...)},
	{name: "6.5.2 INITIAL_WINDOW_SIZE 2^31 is FLOW_CONTROL_ERROR",
		in: raw(FrameSettings, 0, 0, setting(SettingInitialWindowSize, 1<<31)...), kind: connErrKind, code: ErrCodeFlowControl},
	{name: "6.5.2 MAX_FRAME_SIZE 16383 is PROTOCOL_ERROR",
		in: raw(FrameSettings, 0, 0, setting(SettingMaxFrameSize, 16383)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.5.2 MAX_FRAME_SIZE 2^24 is PROTOCOL_ERROR",
		in: raw(FrameSettings, 0, 0, setting(SettingMaxFrameSize, 1<<24)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.5.2 MAX_FRAME_SIZE 2^24-1 is accepted",
		in: raw(FrameSettings, 0, 0, setting(SettingMaxFrameSize, 1<<24-1)...)},
	{name: "6.5.2 a bad value after a good one is still caught",
		in:   raw(FrameSettings, 0, 0, cat(setting(SettingEnablePush, 0), setting(SettingEnablePush, 7))...),
		kind: connErrKind, code: ErrCodeProtocol},
	{name: "RFC 8441 3 ENABLE_CONNECT_PROTOCOL 2 is PROTOCOL_ERROR",
		in: raw(FrameSettings, 0, 0, setting(SettingEnableConnectProtocol, 2)...), kind: connErrKind, code: ErrCodeProtocol},

	// §6.6 PUSH_PROMISE
	{name: "6.6 PUSH_PROMISE promised stream and fragment",
		in: raw(FramePushPromise, FlagEndHeaders|FlagPadded, 1, cat([]byte{1}, u32(2|1<<31), []byte{0x82, 0})...),
		check: func(t *testing.T, f *Frame) {
			eq(t, f.PromisedStreamID(), uint32(2))
			eq(t, string(f.HeaderBlockFragment()), "\x82")
			eq(t, f.EndHeaders(), true)
		}},
	{name: "6.6 PUSH_PROMISE on stream 0 is PROTOCOL_ERROR",
		in: raw(FramePushPromise, FlagEndHeaders, 0, u32(2)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.6 PUSH_PROMISE too short for the promised ID is FRAME_SIZE_ERROR",
		in: raw(FramePushPromise, FlagEndHeaders, 1, 0, 0, 2), kind: connErrKind, code: ErrCodeFrameSize},

	// §6.7 PING
	{name: "6.7 PING data", in: raw(FramePing, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8),
		check: func(t *testing.T, f *Frame) {
			eq(t, f.PingData(), [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
			eq(t, f.IsAck(), false)
		}},
	{name: "6.7 PING ACK", in: raw(FramePing, FlagAck, 0, zeros8...),
		check: func(t *testing.T, f *Frame) { eq(t, f.IsAck(), true) }},
	{name: "6.7 PING on a stream is PROTOCOL_ERROR",
		in: raw(FramePing, 0, 1, zeros8...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.7 PING of length 7 is FRAME_SIZE_ERROR",
		in: raw(FramePing, 0, 0, zeros8[:7]...), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.7 PING of length 9 is FRAME_SIZE_ERROR",
		in: raw(FramePing, 0, 0, append(zeros8, 0)...), kind: connErrKind, code: ErrCodeFrameSize},

	// §6.8 GOAWAY
	{name: "6.8 GOAWAY last stream, code and debug data",
		in: raw(FrameGoAway, 0, 0, cat(u32(7|1<<31), u32(uint32(ErrCodeEnhanceYourCalm)), []byte("calm"))...),
		check: func(t *testing.T, f *Frame) {
			eq(t, f.LastStreamID(), uint32(7))
			eq(t, f.ErrCode(), ErrCodeEnhanceYourCalm)
			eq(t, string(f.DebugData()), "calm")
		}},
	{name: "6.8 GOAWAY on a stream is PROTOCOL_ERROR",
		in: raw(FrameGoAway, 0, 1, zeros8...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.8 GOAWAY shorter than 8 is FRAME_SIZE_ERROR",
		in: raw(FrameGoAway, 0, 0, zeros8[:7]...), kind: connErrKind, code: ErrCodeFrameSize},

	// §6.9 WINDOW_UPDATE
	{name: "6.9 WINDOW_UPDATE on a stream", in: raw(FrameWindowUpdate, 0, 5, u32(1000)...),
		check: func(t *testing.T, f *Frame) { eq(t, f.Increment(), uint32(1000)) }},
	{name: "6.9 WINDOW_UPDATE on the connection, reserved bit ignored", in: raw(FrameWindowUpdate, 0, 0, u32(1<<31|1)...),
		check: func(t *testing.T, f *Frame) { eq(t, f.Increment(), uint32(1)) }},
	{name: "6.9 WINDOW_UPDATE increment 0 on a stream is a stream PROTOCOL_ERROR",
		in: raw(FrameWindowUpdate, 0, 5, u32(0)...), kind: streamErrKind, code: ErrCodeProtocol, stream: 5},
	{name: "6.9 WINDOW_UPDATE increment 0 on the connection is a connection PROTOCOL_ERROR",
		in: raw(FrameWindowUpdate, 0, 0, u32(0)...), kind: connErrKind, code: ErrCodeProtocol},
	{name: "6.9 WINDOW_UPDATE of length 3 is FRAME_SIZE_ERROR",
		in: raw(FrameWindowUpdate, 0, 1, 0, 0, 1), kind: connErrKind, code: ErrCodeFrameSize},
	{name: "6.9 WINDOW_UPDATE of length 5 is FRAME_SIZE_ERROR",
		in: raw(FrameWindowUpdate, 0, 0, 0, 0, 0, 1, 0), kind: connErrKind, code: ErrCodeFrameSize},

	// §6.10 CONTINUATION
	{name: "6.10 CONTINUATION fragment", in: raw(FrameContinuation, FlagEndHeaders, 1, 0x84),
		check: func(t *testing.T, f *Frame) {
			eq(t, string(f.HeaderBlockFragment()), "\x84")
			eq(t, f.EndHeaders(), true)
		}},
	{name: "6.10 CONTINUATION on stream 0 is PROTOCOL_ERROR",
		in: raw(FrameContinuation, FlagEndHeaders, 0, 0x84), kind: connErrKind, code: ErrCodeProtocol},
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestReadFrame(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			// Trailing bytes belong to the next frame and must not be read.
			in := append(append([]byte(nil), tc.in...), 0xee, 0xee)
			f, n, err := ReadFrame(in, tc.max)
			checkErr(t, err, tc.kind, tc.code, tc.stream)
			switch tc.kind {
			case connErrKind:
				eq(t, n, 0)
				return
			default:
				eq(t, n, len(tc.in))
			}
			h, _ := DecodeFrameHeader(tc.in)
			eq(t, f.FrameHeader, h)
			if tc.check != nil {
				tc.check(t, &f)
			}
		})
	}
}

// Accessors of other frame types return zero values rather than
// misreading the shared fields.
func TestFrameAccessorsOfOtherTypes(t *testing.T) {
	f, _, err := ReadFrame(raw(FrameWindowUpdate, 0, 1, u32(5)...), 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.Data() != nil || f.HeaderBlockFragment() != nil || f.ErrCode() != 0 || f.LastStreamID() != 0 ||
		f.PromisedStreamID() != 0 || f.NumSettings() != 0 || f.DebugData() != nil || f.Payload() != nil ||
		f.IsAck() || f.EndStream() || f.EndHeaders() || f.PingData() != [8]byte{} {
		t.Fatalf("accessor of another type returned data: %+v", f)
	}
	eq(t, f.Increment(), uint32(5))
}

// Views must not reach past their frame even through reslicing (cap).
func TestReadFrameViewsAreCapped(t *testing.T) {
	in := append(raw(FrameData, 0, 1, 'a', 'b'), raw(FrameData, 0, 1, 'c')...)
	f, _, err := ReadFrame(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Data(); cap(d) != 2 {
		t.Fatalf("cap(Data()) = %d, want 2", cap(d))
	}
}

// mixedStream is a valid client-side sequence of every frame type the
// server reads on a busy connection; it is shared by the split tests, the
// benchmarks and the fuzz seeds.
func mixedStream() []byte {
	var b []byte
	b = append(b, raw(FrameSettings, 0, 0, cat(setting(SettingInitialWindowSize, 1<<20), setting(SettingEnablePush, 0))...)...)
	b = append(b, raw(FrameSettings, FlagAck, 0)...)
	b = append(b, raw(FrameWindowUpdate, 0, 0, u32(1<<20)...)...)
	b = append(b, raw(FrameHeaders, FlagPriority, 1, cat(u32(0), []byte{15}, bytes.Repeat([]byte{0x82}, 20))...)...)
	b = append(b, raw(FrameContinuation, FlagEndHeaders, 1, 0x84, 0x86)...)
	b = append(b, raw(FrameData, FlagPadded, 1, cat([]byte{4}, []byte(strings.Repeat("d", 1000)), make([]byte, 4))...)...)
	b = append(b, raw(FrameData, FlagEndStream, 1, []byte("tail")...)...)
	b = append(b, raw(FramePriority, 0, 3, cat(u32(1), []byte{7})...)...)
	b = append(b, raw(FramePing, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8)...)
	b = append(b, raw(FrameRSTStream, 0, 1, u32(uint32(ErrCodeCancel))...)...)
	b = append(b, raw(0xfa, 0, 0, 9, 9)...)
	b = append(b, raw(FrameGoAway, 0, 0, cat(u32(1), u32(0))...)...)
	return b
}

// §4.1: a frame is complete only with all its Length octets. Every proper
// prefix of a frame must be reported incomplete without consuming anything.
func TestReadFrameIncompleteAtEverySplit(t *testing.T) {
	stream := mixedStream()
	for off := 0; off < len(stream); {
		_, total, err := ReadFrame(stream[off:], 0)
		if err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		for cut := 0; cut < total; cut++ {
			if _, n, err := ReadFrame(stream[off:off+cut], 0); err != ErrIncomplete || n != 0 {
				t.Fatalf("frame at %d cut at %d: n=%d err=%v, want ErrIncomplete", off, cut, n, err)
			}
		}
		off += total
	}
}

// A stream arriving in pieces of any size decodes to the same frames as
// the whole (the loop of a server fed by OnTraffic).
func TestDecoderChunkedArrival(t *testing.T) {
	stream := mixedStream()
	want := decodeAll(t, stream)
	for chunk := 1; chunk <= 17; chunk++ {
		var d Decoder
		var buf []byte
		var got []FrameHeader
		for off := 0; off < len(stream); off += chunk {
			buf = append(buf, stream[off:min(off+chunk, len(stream))]...)
			for {
				f, n, err := d.ReadFrame(buf)
				if err == ErrIncomplete {
					break
				}
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				got = append(got, f.FrameHeader)
				buf = buf[n:]
			}
		}
		if len(buf) != 0 || len(got) != len(want) {
			t.Fatalf("chunk %d: %d frames, %d bytes left; want %d frames", chunk, len(got), len(buf), len(want))
		}
		for i := range got {
			eq(t, got[i], want[i])
		}
	}
}

func decodeAll(t *testing.T, b []byte) []FrameHeader {
	t.Helper()
	var d Decoder
	var hs []FrameHeader
	for len(b) > 0 {
		f, n, err := d.ReadFrame(b)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(hs), err)
		}
		hs = append(hs, f.FrameHeader)
		b = b[n:]
	}
	return hs
}

// §4.3, §6.10: a header block is a contiguous run of HEADERS/PUSH_PROMISE
// then CONTINUATION frames of one stream.
func TestDecoderHeaderBlockOrder(t *testing.T) {
	open := raw(FrameHeaders, 0, 1, 0x82)
	tests := []struct {
		name   string
		frames [][]byte
		kind   errKind // of the last frame
		code   ErrCode
		stream uint32
	}{
		{name: "6.10 CONTINUATION completes the block",
			frames: [][]byte{open, raw(FrameContinuation, 0, 1, 0x84), raw(FrameContinuation, FlagEndHeaders, 1, 0x86), raw(FrameData, 0, 1, 'x')}},
		{name: "6.10 DATA inside a header block is PROTOCOL_ERROR",
			frames: [][]byte{open, raw(FrameData, 0, 1, 'x')}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "6.10 CONTINUATION of another stream is PROTOCOL_ERROR",
			frames: [][]byte{open, raw(FrameContinuation, FlagEndHeaders, 3, 0x84)}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "4.3 PRIORITY inside a header block is PROTOCOL_ERROR",
			frames: [][]byte{open, raw(FramePriority, 0, 1, 0, 0, 0, 0, 1)}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "5.5 unknown frame inside a header block is PROTOCOL_ERROR",
			frames: [][]byte{open, raw(0xfa, 0, 1)}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "4.3 HEADERS of another stream inside a header block is PROTOCOL_ERROR",
			frames: [][]byte{open, raw(FrameHeaders, FlagEndHeaders, 3, 0x82)}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "6.10 CONTINUATION without an open block is PROTOCOL_ERROR",
			frames: [][]byte{raw(FrameContinuation, FlagEndHeaders, 1, 0x84)}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "6.10 CONTINUATION after END_HEADERS is PROTOCOL_ERROR",
			frames: [][]byte{raw(FrameHeaders, FlagEndHeaders, 1, 0x82), raw(FrameContinuation, FlagEndHeaders, 1, 0x84)},
			kind:   connErrKind, code: ErrCodeProtocol},
		{name: "6.10 PUSH_PROMISE opens a block too",
			frames: [][]byte{raw(FramePushPromise, 0, 1, u32(2)...), raw(FramePing, 0, 0, zeros8...)}, kind: connErrKind, code: ErrCodeProtocol},
		{name: "5.3.1 a self-dependent HEADERS still opens its block",
			frames: [][]byte{raw(FrameHeaders, FlagPriority, 3, cat(u32(3), []byte{0, 0x82})...), raw(FrameContinuation, FlagEndHeaders, 3, 0x84)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			var err error
			for i, fr := range tc.frames {
				var n int
				_, n, err = d.ReadFrame(fr)
				if i < len(tc.frames)-1 {
					if _, ok := err.(ConnectionError); ok || n != len(fr) {
						t.Fatalf("frame %d: n=%d err=%v", i, n, err)
					}
				}
			}
			checkErr(t, err, tc.kind, tc.code, tc.stream)
		})
	}
}

// §3.4: the preface is checked byte by byte.
func TestReadPreface(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		err  error
	}{
		{"3.4 complete preface", ClientPreface + "rest", len(ClientPreface), nil},
		{"3.4 partial preface is incomplete", ClientPreface[:10], 0, ErrIncomplete},
		{"3.4 empty is incomplete", "", 0, ErrIncomplete},
		{"3.4 wrong preface is PROTOCOL_ERROR at once", "GET / HTTP/1.1\r\n", 0, errBadPreface},
		{"3.4 wrong first byte", "X", 0, errBadPreface},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := ReadPreface([]byte(tc.in))
			if n != tc.n || err != tc.err {
				t.Fatalf("got %d %v, want %d %v", n, err, tc.n, tc.err)
			}
		})
	}
}
