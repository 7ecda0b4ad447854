package server

import (
	"net/http"
	"strconv"
	"testing"
)

// Every registered status gets its reason phrase (net/http's table is the reference, with
// RFC 9110's new names; 418 is not registered, §15.5.19), and an unregistered one an empty
// phrase.
func TestStatusLineReasonPhrases(t *testing.T) {
	renamed := map[int]string{413: "Content Too Large", 414: "URI Too Long",
		416: "Range Not Satisfiable", 422: "Unprocessable Content", 418: ""}
	for code := 100; code < 600; code++ {
		reason, ok := renamed[code]
		if !ok {
			reason = http.StatusText(code)
		}
		want := "HTTP/1.1 " + strconv.Itoa(code) + " " + reason + "\r\n"
		if got := string(appendStatusLine(nil, code)); got != want {
			t.Errorf("status %d: got %q want %q", code, got, want)
		}
	}
	if got := string(appendStatusLine(nil, 1000)); got != "HTTP/1.1 1000 \r\n" {
		t.Errorf("status 1000: got %q", got)
	}
}
