package server

import (
	"io"
	"net/http"
	"testing"
)

// FuzzNetHTTPRequest: whatever request the parser let through (any target, header name
// and value, body), building the *http.Request for a NetHTTP handler either fails with
// an error (answered 400) or carries the header and body unchanged; it never panics.
func FuzzNetHTTPRequest(f *testing.F) {
	f.Add([]byte("/a/b?c=d"), []byte("X-Test"), []byte("v"), []byte("body"))
	f.Add([]byte("*"), []byte("host"), []byte("example"), []byte(""))
	f.Add([]byte("http://example/x"), []byte(":authority"), []byte("x"), []byte("b"))
	f.Add([]byte("/%zz"), []byte("Content-Type"), []byte("text/plain"), []byte(""))
	f.Fuzz(func(t *testing.T, target, name, value, body []byte) {
		r := &Request{Method: []byte("POST"), Target: target, Path: target, Host: []byte("h"),
			ProtoMajor: 1, ProtoMinor: 1, Body: body,
			Header: []Header{{Name: name, Value: value}}}
		hr, err := NetHTTP{Handler: http.NotFoundHandler()}.request(r)
		if err != nil {
			return
		}
		got, _ := io.ReadAll(hr.Body)
		if string(got) != string(body) || hr.ContentLength != int64(len(body)) {
			t.Fatalf("body %q, want %q", got, body)
		}
		key := http.CanonicalHeaderKey(string(name))
		if len(name) > 0 && name[0] != ':' && key != "Host" {
			if vs := hr.Header.Values(string(name)); len(vs) != 1 || vs[0] != string(value) {
				t.Fatalf("header %q: %q, want %q", name, vs, value)
			}
		}
	})
}
