package websocket

import (
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/frame/ws"
)

// utf8Vector is a text payload and whether it is valid UTF-8 (RFC 3629), after Markus
// Kuhn's stress test as Autobahn 6.x uses it.
type utf8Vector struct {
	name  string
	p     string
	valid bool
}

func utf8Vectors() []utf8Vector {
	v := []utf8Vector{
		{"empty", "", true},
		{"greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true},
		{"Hello-µ@ßöäüàá-UTF-8!!", "Hello-µ@ßöäüàá-UTF-8!!", true},
		{"first 1-byte sequence U+0000", "\x00", true},
		{"first 2-byte sequence U+0080", "\xc2\x80", true},
		{"first 3-byte sequence U+0800", "\xe0\xa0\x80", true},
		{"first 4-byte sequence U+10000", "\xf0\x90\x80\x80", true},
		{"first 5-byte sequence", "\xf8\x88\x80\x80\x80", false},
		{"first 6-byte sequence", "\xfc\x84\x80\x80\x80\x80", false},
		{"last 1-byte sequence U+007F", "\x7f", true},
		{"last 2-byte sequence U+07FF", "\xdf\xbf", true},
		{"last 3-byte sequence U+FFFF", "\xef\xbf\xbf", true},
		{"last 4-byte form beyond U+10FFFF", "\xf7\xbf\xbf\xbf", false},
		{"last 5-byte sequence", "\xfb\xbf\xbf\xbf\xbf", false},
		{"last 6-byte sequence", "\xfd\xbf\xbf\xbf\xbf\xbf", false},
		{"U+D7FF", "\xed\x9f\xbf", true},
		{"U+E000", "\xee\x80\x80", true},
		{"U+FFFD", "\xef\xbf\xbd", true},
		{"U+10FFFF", "\xf4\x8f\xbf\xbf", true},
		{"U+110000", "\xf4\x90\x80\x80", false},
		{"lone continuation 0x80", "\x80", false},
		{"lone continuation 0xbf", "\xbf", false},
		{"two continuations", "\x80\xbf", false},
		{"three continuations", "\x80\xbf\x80", false},
		{"four continuations", "\x80\xbf\x80\xbf", false},
		{"seven continuations", "\x80\xbf\x80\xbf\x80\xbf\x80", false},
		{"lonely 2-byte start followed by space", "\xc0\x20\xc5\x20\xdf\x20", false},
		{"lonely 3-byte start followed by space", "\xe0\x20\xef\x20", false},
		{"lonely 4-byte start followed by space", "\xf0\x20\xf4\x20", false},
		{"lonely 5-byte start", "\xf8\x20", false},
		{"lonely 6-byte start", "\xfc\x20", false},
		{"2-byte sequence missing its last byte", "\xc2", false},
		{"3-byte sequence missing its last byte", "\xe0\xa0", false},
		{"4-byte sequence missing its last byte", "\xf0\x90\x80", false},
		{"overlong 2-byte sequence missing its last byte", "\xc0", false},
		{"last 3-byte sequence missing its last byte", "\xef\xbf", false},
		{"last 4-byte sequence missing its last byte", "\xf4\x8f\xbf", false},
		{"incomplete sequences concatenated", "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf", false},
		{"impossible byte 0xfe", "\xfe", false},
		{"impossible byte 0xff", "\xff", false},
		{"impossible bytes fe fe ff ff", "\xfe\xfe\xff\xff", false},
		{"overlong '/' in 2 bytes", "\xc0\xaf", false},
		{"overlong '/' in 3 bytes", "\xe0\x80\xaf", false},
		{"overlong '/' in 4 bytes", "\xf0\x80\x80\xaf", false},
		{"overlong '/' in 5 bytes", "\xf8\x80\x80\x80\xaf", false},
		{"maximal overlong 2 bytes", "\xc1\xbf", false},
		{"maximal overlong 3 bytes", "\xe0\x9f\xbf", false},
		{"maximal overlong 4 bytes", "\xf0\x8f\xbf\xbf", false},
		{"overlong NUL in 2 bytes", "\xc0\x80", false},
		{"overlong NUL in 3 bytes", "\xe0\x80\x80", false},
		{"overlong NUL in 4 bytes", "\xf0\x80\x80\x80", false},
		{"surrogate U+D800", "\xed\xa0\x80", false},
		{"surrogate U+DB7F", "\xed\xad\xbf", false},
		{"surrogate U+DB80", "\xed\xae\x80", false},
		{"surrogate U+DBFF", "\xed\xaf\xbf", false},
		{"surrogate U+DC00", "\xed\xb0\x80", false},
		{"surrogate U+DF80", "\xed\xbe\x80", false},
		{"surrogate U+DFFF", "\xed\xbf\xbf", false},
		{"surrogate pair U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80", false},
		{"surrogate pair U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf", false},
		{"noncharacter U+FFFE", "\xef\xbf\xbe", true},
		{"noncharacter U+FDD0", "\xef\xb7\x90", true},
		{"noncharacter U+1FFFE", "\xf0\x9f\xbf\xbe", true},
		{"noncharacter U+10FFFE", "\xf4\x8f\xbf\xbe", true},
		{"κόσμε then a surrogate then ASCII", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", false},
	}
	// Autobahn 6.6: every prefix of κόσμε is valid exactly when it ends on a boundary.
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	boundary := map[int]bool{0: true, 2: true, 5: true, 7: true, 9: true, 11: true}
	for n := 1; n < len(kosme); n++ {
		v = append(v, utf8Vector{fmt.Sprintf("κόσμε prefix of %d bytes", n), kosme[:n], boundary[n]})
	}
	// Autobahn 6.8, 6.9: all 64 continuation bytes in a row; every lead byte alone.
	var conts []byte
	for c := 0x80; c <= 0xbf; c++ {
		conts = append(conts, byte(c))
	}
	v = append(v, utf8Vector{"all 64 continuation bytes", string(conts), false})
	return v
}

// Autobahn 6: text must be UTF-8 (RFC 6455 §5.6, §8.1); invalid text fails with 1007.
func TestConformanceUTF8(t *testing.T) {
	s := conformanceServer(t, Handler{})
	var cases []testCase
	for _, v := range utf8Vectors() {
		want := []wantFrame{echoText(v.p)}
		verdict := "is echoed"
		if !v.valid {
			want, verdict = failed(ws.StatusInvalidPayload), "fails with 1007"
		}
		cases = append(cases,
			conversation(fmt.Sprintf("%s in one frame %s (RFC 6455 §8.1)", v.name, verdict), text(v.p), want...),
			conversation(fmt.Sprintf("%s in one-byte fragments %s (RFC 6455 §5.4, §8.1)", v.name, verdict), fragments(ws.OpText, []byte(v.p), 1), want...),
		)
	}
	// The same bytes as binary are not text: never checked (RFC 6455 §5.6).
	cases = append(cases, conversation("invalid UTF-8 in a binary message is echoed (RFC 6455 §5.6)",
		msg(ws.OpBinary, []byte("\xed\xa0\x80\xff")), echo(ws.OpBinary, []byte("\xed\xa0\x80\xff"))))

	// Autobahn 6.4: fail fast. The server must close as soon as the fragment that makes
	// the text invalid arrives: no final fragment is ever sent, so a server waiting for
	// the whole message fails the case on a read timeout.
	kosme := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
	failFast := []struct {
		name    string
		ok, bad []byte // a valid start (nil: none), then the fragment that spoils it
	}{
		{"code point above U+10FFFF in the second fragment", kosme, []byte("\xf4\x90\x80\x80")},
		{"sequence split across fragments, invalid on its second byte", append(kosme, 0xf4), []byte{0x90}},
		{"surrogate split across fragments", append(kosme, 0xed), []byte{0xa0, 0x80}},
		{"invalid byte in the first fragment", nil, []byte("\xc0\xaf")},
	}
	for _, ff := range failFast {
		var steps []step
		if ff.ok != nil {
			steps = append(steps, step{send: frag(ws.OpText, false, ff.ok)})
		}
		op := ws.OpContinuation
		if ff.ok == nil {
			op = ws.OpText
		}
		steps = append(steps,
			step{send: frag(op, false, ff.bad), want: failed(ws.StatusInvalidPayload)},
		)
		cases = append(cases, testCase{name: fmt.Sprintf("fail fast: %s closes with 1007 before the final fragment (RFC 6455 §8.1)", ff.name), steps: steps})
	}
	runCases(t, s, "", cases)
}
