package probe

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestWriteTextAndJSON(t *testing.T) {
	r := run(t, "http://"+startSwitchyard(t, false)+"/echo", Options{})

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	// Every probe appears with what it got and its verdict, then the diagnosis.
	want := []string{"Diagnosis", "[websocket-ok]", "HTTP/1.1 101 Switching Protocols", "HTTP/1.1 426 Upgrade Required",
		"Sec-WebSocket-Accept: ", "(valid)", "Sec-WebSocket-Version: 13", "OK upgraded", "OK version-mismatch-detected"}
	for _, p := range r.Probes {
		want = append(want, p.Title, p.Verdict.Code)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("text output lacks %q", w)
		}
	}
	for i, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > textWidth+20 && !strings.Contains(line, "Sec-WebSocket") && !strings.HasPrefix(strings.TrimSpace(line), "sent") {
			t.Errorf("line %d is %d runes long: %q", i+1, len([]rune(line)), line)
		}
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	// The JSON carries the whole report: decoding it gives the report back (unexported
	// bookkeeping aside).
	var again bytes.Buffer
	if err := back.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js.Bytes(), again.Bytes()) || !reflect.DeepEqual(back.Findings, r.Findings) {
		t.Error("JSON does not round-trip")
	}
	var generic map[string]any
	_ = json.Unmarshal(js.Bytes(), &generic)
	for _, k := range []string{"url", "probes", "diagnosis", "websocket", "h2c", "h2_prior_knowledge"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
	if generic["websocket"] != true {
		t.Errorf("JSON websocket = %v, want true", generic["websocket"])
	}
}
