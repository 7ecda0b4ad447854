package ws

import (
	"bytes"
	"strings"
	"testing"
)

// frameIn is one frame fed to an Assembler in a test.
type frameIn struct {
	fin     bool
	op      OpCode
	rsv     byte
	payload string
}

func hdr(f frameIn) Header {
	return Header{Fin: f.fin, Rsv: f.rsv, OpCode: f.op, Masked: true, Mask: testKey, Length: int64(len(f.payload))}
}

type msgOut struct {
	op         OpCode
	compressed bool
	payload    string
}

func TestAssemblerRules(t *testing.T) {
	cases := []struct {
		name        string
		compression bool
		max         int
		frames      []frameIn
		want        []msgOut // messages delivered, in order
		wantErr     *Error   // error of the last frame
	}{
		{"§5.4 single frame message", false, 0,
			[]frameIn{{true, OpText, 0, "hello"}},
			[]msgOut{{OpText, false, "hello"}}, nil},
		{"§5.4 fragmented message joined", false, 0,
			[]frameIn{{false, OpBinary, 0, "ab"}, {false, OpContinuation, 0, "cd"}, {true, OpContinuation, 0, "ef"}},
			[]msgOut{{OpBinary, false, "abcdef"}}, nil},
		{"§5.4 empty fragments", false, 0,
			[]frameIn{{false, OpText, 0, ""}, {false, OpContinuation, 0, ""}, {true, OpContinuation, 0, ""}},
			[]msgOut{{OpText, false, ""}}, nil},
		{"§5.4 control frames between fragments", false, 0,
			[]frameIn{{false, OpText, 0, "fra"}, {true, OpPing, 0, "p"}, {false, OpContinuation, 0, "gm"}, {true, OpPong, 0, ""}, {true, OpContinuation, 0, "ent"}},
			[]msgOut{{OpPing, false, "p"}, {OpPong, false, ""}, {OpText, false, "fragment"}}, nil},
		{"§5.4 messages back to back", false, 0,
			[]frameIn{{false, OpText, 0, "a"}, {true, OpContinuation, 0, "b"}, {true, OpBinary, 0, "c"}, {false, OpBinary, 0, "d"}, {true, OpContinuation, 0, "e"}},
			[]msgOut{{OpText, false, "ab"}, {OpBinary, false, "c"}, {OpBinary, false, "de"}}, nil},
		{"§5.4 continuation without a message", false, 0,
			[]frameIn{{true, OpContinuation, 0, "x"}},
			nil, ErrUnexpectedContinuation},
		{"§5.4 continuation after a complete message", false, 0,
			[]frameIn{{true, OpText, 0, "x"}, {true, OpContinuation, 0, "y"}},
			[]msgOut{{OpText, false, "x"}}, ErrUnexpectedContinuation},
		{"§5.4 new text frame inside a fragmented message", false, 0,
			[]frameIn{{false, OpText, 0, "x"}, {true, OpText, 0, "y"}},
			nil, ErrExpectedContinuation},
		{"§5.4 new binary frame inside a fragmented message", false, 0,
			[]frameIn{{false, OpBinary, 0, "x"}, {false, OpBinary, 0, "y"}},
			nil, ErrExpectedContinuation},
		{"RFC 7692 §6 RSV1 without negotiation", false, 0,
			[]frameIn{{true, OpText, RSV1, "x"}},
			nil, ErrCompressedBit},
		{"RFC 7692 §6 RSV1 on first frame when negotiated", true, 0,
			[]frameIn{{false, OpBinary, RSV1, "ab"}, {true, OpContinuation, 0, "cd"}},
			[]msgOut{{OpBinary, true, "abcd"}}, nil},
		{"RFC 7692 §6.1 RSV1 on a continuation frame", true, 0,
			[]frameIn{{false, OpBinary, RSV1, "ab"}, {true, OpContinuation, RSV1, "cd"}},
			nil, ErrCompressedBit},
		{"RFC 7692 §6.1 RSV1 on a control frame", true, 0,
			[]frameIn{{true, OpPing, RSV1, ""}},
			nil, ErrCompressedBit},
		{"RFC 7692 §6 uncompressed message when negotiated", true, 0,
			[]frameIn{{true, OpText, 0, "plain"}},
			[]msgOut{{OpText, false, "plain"}}, nil},
		{"§7.4.1 1009 single frame over the limit", false, 4,
			[]frameIn{{true, OpBinary, 0, "12345"}},
			nil, ErrMessageTooBig},
		{"§7.4.1 1009 fragments over the limit", false, 4,
			[]frameIn{{false, OpBinary, 0, "123"}, {true, OpContinuation, 0, "45"}},
			nil, ErrMessageTooBig},
		{"§7.4.1 message exactly at the limit", false, 4,
			[]frameIn{{false, OpBinary, 0, "12"}, {true, OpContinuation, 0, "34"}},
			[]msgOut{{OpBinary, false, "1234"}}, nil},
		{"§7.4.1 control frames do not count towards the limit", false, 4,
			[]frameIn{{false, OpBinary, 0, "12"}, {true, OpPing, 0, "pingpayload"}, {true, OpContinuation, 0, "34"}},
			[]msgOut{{OpPing, false, "pingpayload"}, {OpBinary, false, "1234"}}, nil},
		{"§8.1 invalid UTF-8 in a single frame", false, 0,
			[]frameIn{{true, OpText, 0, "a\xffb"}},
			nil, ErrInvalidUTF8},
		{"§8.1 invalid UTF-8 fails on the first fragment", false, 0,
			[]frameIn{{false, OpText, 0, "ok\xc0\x80"}},
			nil, ErrInvalidUTF8},
		{"§8.1 sequence split across fragments is valid", false, 0,
			[]frameIn{{false, OpText, 0, "\xe6\x97"}, {false, OpContinuation, 0, "\xa5"}, {true, OpContinuation, 0, "\xe6\x9c\xac"}},
			[]msgOut{{OpText, false, "日本"}}, nil},
		{"§8.1 invalid sequence split across fragments fails fast", false, 0,
			[]frameIn{{false, OpText, 0, "\xed"}, {false, OpContinuation, 0, "\xa0"}},
			nil, ErrInvalidUTF8},
		{"§8.1 message ends inside a sequence", false, 0,
			[]frameIn{{false, OpText, 0, "ab"}, {true, OpContinuation, 0, "\xe6\x97"}},
			nil, ErrInvalidUTF8},
		{"§8.1 binary messages are not validated", false, 0,
			[]frameIn{{true, OpBinary, 0, "\xff\xfe"}},
			[]msgOut{{OpBinary, false, "\xff\xfe"}}, nil},
		{"RFC 7692 §6 compressed text is validated after inflating, not before", true, 0,
			[]frameIn{{true, OpText, RSV1, "\xff\x00"}},
			[]msgOut{{OpText, true, "\xff\x00"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Assembler{Compression: c.compression, MaxMessageSize: c.max}
			var got []msgOut
			var err *Error
			for i, f := range c.frames {
				if e := a.Check(hdr(f)); e != nil && i < len(c.frames)-1 {
					t.Fatalf("Check frame %d: %v", i, e)
				}
				msg, done, e := a.Frame(hdr(f), []byte(f.payload))
				if e != nil {
					if i != len(c.frames)-1 {
						t.Fatalf("frame %d: unexpected %v", i, e)
					}
					err = e
					break
				}
				if done {
					got = append(got, msgOut{msg.Op, msg.Compressed, string(msg.Payload)})
				}
			}
			if err != c.wantErr {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if len(got) != len(c.want) {
				t.Fatalf("messages %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("message %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
			if err != nil && a.InProgress() {
				t.Fatal("state not reset after error")
			}
		})
	}
}

func TestAssemblerCheckBeforePayload(t *testing.T) {
	// §7.4.1 1009: a declared length past the limit is refused from the
	// header alone, before the payload is buffered.
	a := Assembler{MaxMessageSize: 1 << 20}
	if err := a.Check(Header{Fin: true, OpCode: OpBinary, Length: 1<<20 + 1}); err != ErrMessageTooBig {
		t.Fatalf("err = %v", err)
	}
	if err := a.Check(Header{Fin: true, OpCode: OpBinary, Length: 1 << 20}); err != nil {
		t.Fatalf("err = %v", err)
	}
	if err := a.Check(Header{Fin: true, OpCode: OpContinuation}); err != ErrUnexpectedContinuation {
		t.Fatalf("err = %v", err)
	}
}

func TestAssemblerSingleFrameIsView(t *testing.T) {
	// The unfragmented message is handed out without a copy.
	var a Assembler
	in := []byte("view me")
	msg, done, err := a.Frame(Header{Fin: true, OpCode: OpText, Length: 7}, in)
	if err != nil || !done || &msg.Payload[0] != &in[0] {
		t.Fatalf("not a view: %v %v", done, err)
	}
}

func TestAssemblerCopiesFragments(t *testing.T) {
	// The first fragment's bytes must survive the caller reusing its input
	// buffer before the message completes.
	var a Assembler
	buf := []byte("abc")
	if _, done, err := a.Frame(Header{OpCode: OpBinary, Length: 3}, buf); done || err != nil {
		t.Fatal(done, err)
	}
	copy(buf, "XYZ")
	msg, done, err := a.Frame(Header{Fin: true, OpCode: OpContinuation, Length: 3}, []byte("def"))
	if !done || err != nil || string(msg.Payload) != "abcdef" {
		t.Fatalf("got %q %v %v", msg.Payload, done, err)
	}
	a.Release()
	if a.frag != nil || a.out != nil {
		t.Fatal("Release kept a buffer")
	}
}

func TestAssemblerLargeFragmented(t *testing.T) {
	// §5.4: many fragments, text split inside multi-byte sequences.
	text := strings.Repeat("añ日😀", 5000)
	var a Assembler
	var msg Message
	var done bool
	var err *Error
	for off := 0; off < len(text); off += 7 {
		end := min(off+7, len(text))
		op := OpContinuation
		if off == 0 {
			op = OpText
		}
		msg, done, err = a.Frame(Header{Fin: end == len(text), OpCode: op, Length: int64(end - off)}, []byte(text[off:end]))
		if err != nil {
			t.Fatal(err)
		}
	}
	if !done || !bytes.Equal(msg.Payload, []byte(text)) {
		t.Fatal("message mismatch")
	}
}
