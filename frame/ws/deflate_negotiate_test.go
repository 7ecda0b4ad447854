package ws

import (
	"compress/flate"
	"testing"
)

func TestNegotiateDeflate(t *testing.T) {
	cases := []struct {
		name   string
		cfg    DeflateConfig
		offers []string
		want   string // response value; "" means declined
	}{
		{"RFC 7692 §7 plain offer accepted", DeflateConfig{},
			[]string{"permessage-deflate"}, "permessage-deflate"},
		{"RFC 7692 §5 other extensions ignored", DeflateConfig{},
			[]string{"x-webkit-deflate-frame, permessage-deflate"}, "permessage-deflate"},
		{"RFC 7692 §7 name is case-insensitive", DeflateConfig{},
			[]string{"Permessage-Deflate"}, "permessage-deflate"},
		{"RFC 7692 §7.1.2.2 browser offer, client bits without value, not answered", DeflateConfig{},
			[]string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate"},
		{"RFC 7692 §7.1.2.2 client bits without value answered with config", DeflateConfig{ClientMaxWindowBits: 10},
			[]string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate; client_max_window_bits=10"},
		{"RFC 7692 §7.1.2.2 client bits value answered with the smaller", DeflateConfig{ClientMaxWindowBits: 12},
			[]string{"permessage-deflate; client_max_window_bits=9"}, "permessage-deflate; client_max_window_bits=9"},
		{"RFC 7692 §7.1.2.2 client bits never answered unless offered", DeflateConfig{ClientMaxWindowBits: 10, ClientNoContextTakeover: true},
			[]string{"permessage-deflate"}, "permessage-deflate; client_no_context_takeover"},
		{"RFC 7692 §7.1.2.2 limit the client cannot be told about declines", DeflateConfig{ClientMaxWindowBits: 10},
			[]string{"permessage-deflate"}, ""},
		{"RFC 7692 §7.1.2.1 server bits answered with the same value", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=10"}, "permessage-deflate; server_max_window_bits=10"},
		{"RFC 7692 §7.1.2.1 server bits 8 accepted as 8", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=8"}, "permessage-deflate; server_max_window_bits=8"},
		{"RFC 7692 §7.1.2.1 server bits answered with the smaller config", DeflateConfig{ServerMaxWindowBits: 9},
			[]string{"permessage-deflate; server_max_window_bits=12"}, "permessage-deflate; server_max_window_bits=9"},
		{"RFC 7692 §7.1.2.1 server may announce its own limit", DeflateConfig{ServerMaxWindowBits: 11},
			[]string{"permessage-deflate"}, "permessage-deflate; server_max_window_bits=11"},
		{"RFC 7692 §7.1.1.1 server_no_context_takeover offered is echoed", DeflateConfig{},
			[]string{"permessage-deflate; server_no_context_takeover"}, "permessage-deflate; server_no_context_takeover"},
		{"RFC 7692 §7.1.1.1 server may add server_no_context_takeover", DeflateConfig{ServerNoContextTakeover: true},
			[]string{"permessage-deflate"}, "permessage-deflate; server_no_context_takeover"},
		{"RFC 7692 §7.1.1.2 client_no_context_takeover hint is echoed", DeflateConfig{},
			[]string{"permessage-deflate; client_no_context_takeover"}, "permessage-deflate; client_no_context_takeover"},
		{"RFC 7692 §7.1 all parameters", DeflateConfig{},
			[]string{"permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15"},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15"},
		{"RFC 7692 §7.1 quoted value", DeflateConfig{},
			[]string{`permessage-deflate; server_max_window_bits="10"`}, "permessage-deflate; server_max_window_bits=10"},
		{"RFC 6455 §9.1 whitespace around separators", DeflateConfig{},
			[]string{"  permessage-deflate ;  server_max_window_bits = 10 , foo"}, "permessage-deflate; server_max_window_bits=10"},
		{"RFC 7692 §5 first acceptable offer wins", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"}, "permessage-deflate; server_max_window_bits=10"},
		{"RFC 7692 §5 offers across header lines in order", DeflateConfig{},
			[]string{"foo", "permessage-deflate; unknown_param", "permessage-deflate; client_no_context_takeover"}, "permessage-deflate; client_no_context_takeover"},
		{"RFC 7692 §7 unknown parameter declines the offer, next one taken", DeflateConfig{},
			[]string{"permessage-deflate; foo=1, permessage-deflate"}, "permessage-deflate"},
		{"RFC 7692 §7 unknown parameter declines", DeflateConfig{},
			[]string{"permessage-deflate; foo"}, ""},
		{"RFC 7692 §7 duplicate parameter declines", DeflateConfig{},
			[]string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, ""},
		{"RFC 7692 §7 duplicate valueless client_max_window_bits declines", DeflateConfig{},
			[]string{"permessage-deflate; client_max_window_bits; client_max_window_bits"}, ""},
		{"RFC 7692 §7 duplicate window bits declines", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"}, ""},
		{"RFC 7692 §7.1.2.1 server bits without value declines", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits"}, ""},
		{"RFC 7692 §7.1.2.1 server bits 7 declines", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=7"}, ""},
		{"RFC 7692 §7.1.2.1 server bits 16 declines", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=16"}, ""},
		{"RFC 7692 §7.1.2.1 leading zero declines", DeflateConfig{},
			[]string{"permessage-deflate; server_max_window_bits=09"}, ""},
		{"RFC 7692 §7.1.2.2 client bits 0 declines", DeflateConfig{},
			[]string{"permessage-deflate; client_max_window_bits=0"}, ""},
		{"RFC 7692 §7.1.1 no_context_takeover with a value declines", DeflateConfig{},
			[]string{"permessage-deflate; client_no_context_takeover=1"}, ""},
		{"RFC 6455 §9.1 syntax error stops the scan", DeflateConfig{},
			[]string{"permessage-deflate; =, permessage-deflate"}, ""},
		{"RFC 6455 §9.1 unterminated quoted string", DeflateConfig{},
			[]string{`permessage-deflate; server_max_window_bits="10`}, ""},
		{"RFC 6455 §9.1 no offer", DeflateConfig{},
			[]string{""}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := make([][]byte, len(c.offers))
			for i, o := range c.offers {
				hs[i] = []byte(o)
			}
			p, ok := c.cfg.Negotiate(hs...)
			got := ""
			if ok {
				got = string(p.AppendResponse(nil))
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestNegotiatedParams(t *testing.T) {
	// The agreed values drive the codec: windows and context takeover.
	p, ok := DeflateConfig{}.Negotiate([]byte("permessage-deflate; server_max_window_bits=9; client_max_window_bits=11; client_no_context_takeover"))
	if !ok {
		t.Fatal("declined")
	}
	if p.ServerMaxWindowBits != 9 || p.ClientMaxWindowBits != 11 || !p.ClientNoContextTakeover || p.ServerNoContextTakeover || p.Level != flate.BestSpeed {
		t.Fatalf("params %+v", p)
	}
	if d := p.NewServerDeflater(); d.level != flate.HuffmanOnly || !d.takeover {
		t.Fatalf("server deflater %+v: window < 15 must compress Huffman-only", d)
	}
	if inf := p.NewServerInflater(); inf.takeover || inf.window != 1<<11 {
		t.Fatalf("server inflater %+v", inf)
	}
}

func TestExtensionScanner(t *testing.T) {
	// RFC 6455 §9.1 grammar: names, parameters, values, quoted strings.
	s := ScanExtensions([]byte(`foo, bar; a=1; b="x\"y" ,, baz;c`))
	type param struct {
		name, value string
		has         bool
	}
	want := []struct {
		name   string
		params []param
	}{
		{"foo", nil},
		{"bar", []param{{"a", "1", true}, {"b", `x\"y`, true}}},
		{"baz", []param{{"c", "", false}}},
	}
	for i, w := range want {
		e, ok := s.Next()
		if !ok || string(e.Name) != w.name {
			t.Fatalf("ext %d: %q %v", i, e.Name, ok)
		}
		ps := e.Params()
		for j, wp := range w.params {
			n, v, has, ok := ps.Next()
			if !ok || string(n) != wp.name || string(v) != wp.value || has != wp.has {
				t.Fatalf("ext %d param %d: %q=%q %v %v", i, j, n, v, has, ok)
			}
		}
		if _, _, _, ok := ps.Next(); ok {
			t.Fatalf("ext %d: extra parameter", i)
		}
	}
	if _, ok := s.Next(); ok || s.Malformed() {
		t.Fatal("expected clean end")
	}
	if got := string(Unquote(nil, []byte(`x\"y`))); got != `x"y` {
		t.Fatalf("Unquote = %q", got)
	}
}

func TestExtensionScannerMalformed(t *testing.T) {
	// RFC 6455 §9.1: elements before a syntax error are returned, then the
	// scan stops and reports it.
	cases := []struct {
		name   string
		in     string
		before int
	}{
		{"§9.1 parameter without a name", "a, b; =1", 1},
		{"§9.1 separator where a name belongs", "a, ;b", 1},
		{"§9.1 unterminated quoted string", `a; x="1`, 0},
		{"§9.1 garbage after a name", "a b", 0},
		{"§9.1 equals without a value", "a; x=", 0},
		{"§9.1 control character in a quoted string", "a; x=\"\x01\"", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ScanExtensions([]byte(c.in))
			n := 0
			for {
				if _, ok := s.Next(); !ok {
					break
				}
				n++
			}
			if n != c.before || !s.Malformed() {
				t.Fatalf("%d elements, malformed=%v; want %d, true", n, s.Malformed(), c.before)
			}
		})
	}
}
