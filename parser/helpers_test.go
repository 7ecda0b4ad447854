package parser

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// crlf lets test inputs be written with "\n" line ends, the way requests are
// usually shown; it turns every "\n" into "\r\n".
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// inside reports whether v is empty or lies within buf's bytes.
func inside(buf, v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	v0 := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return v0 >= b0 && v0+uintptr(len(v)) <= b0+uintptr(len(buf))
}

// viewsInside checks that every view of req points into buf.
func viewsInside(buf []byte, req *Request) error {
	check := func(what string, v []byte) error {
		if !inside(buf, v) && !(what == "Path" && unsafe.SliceData(v) == unsafe.SliceData(slashPath)) {
			return fmt.Errorf("%s %q is not a view into the input", what, v)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    []byte
	}{{"Method", req.Method}, {"Target", req.Target}, {"Path", req.Path}, {"Query", req.Query}, {"Authority", req.Authority}} {
		if err := check(f.name, f.v); err != nil {
			return err
		}
	}
	for i, h := range req.Headers {
		if err := check("header name "+strconv.Itoa(i), h.Name); err != nil {
			return err
		}
		if err := check("header value "+strconv.Itoa(i), h.Value); err != nil {
			return err
		}
	}
	return nil
}

// serialize writes req back as a request head in canonical form (single
// spaces, CRLF, one space after the colon).
func serialize(req *Request) []byte {
	var b bytes.Buffer
	b.Write(req.Method)
	b.WriteByte(' ')
	b.Write(req.Target)
	b.WriteString(" HTTP/1.")
	b.WriteByte(byte('0' + req.ProtoMinor))
	b.WriteString("\r\n")
	for _, h := range req.Headers {
		b.Write(h.Name)
		b.WriteString(": ")
		b.Write(h.Value)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// summary renders every parsed field, views by content, so two parses can be
// compared whatever buffers they came from.
func summary(req *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "method=%q target=%q path=%q query=%q form=%d authority=%q minor=%d\n",
		req.Method, req.Target, req.Path, req.Query, req.Form, req.Authority, req.ProtoMinor)
	fmt.Fprintf(&b, "cl=%d chunked=%v keepalive=%v expect100=%v connupgrade=%v\n",
		req.ContentLength, req.Chunked, req.KeepAlive, req.Expect100, req.ConnUpgrade)
	for _, h := range req.Headers {
		fmt.Fprintf(&b, "%q: %q (%v)\n", h.Name, h.Value, h.ID)
	}
	for id := HeaderID(1); id < numHeaderIDs; id++ {
		fmt.Fprintf(&b, "%v: count=%d first=%q\n", id, req.Count(id), req.Get(id))
	}
	return b.String()
}

// statusOf returns the HTTP status of a parse error, 0 for nil, -1 for a
// sentinel or foreign error.
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := err.(*Error); ok {
		return e.Status
	}
	return -1
}
