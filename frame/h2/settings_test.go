package h2

import (
	"encoding/base64"
	"testing"
)

func TestDefaultSettings(t *testing.T) {
	// RFC 9113 §6.5.2 initial values.
	eq(t, DefaultSettings(), Settings{
		HeaderTableSize:      4096,
		EnablePush:           true,
		MaxConcurrentStreams: Unlimited,
		InitialWindowSize:    65535,
		MaxFrameSize:         16384,
		MaxHeaderListSize:    Unlimited,
	})
}

func TestApplySetting(t *testing.T) {
	tests := []struct {
		name  string
		in    Setting
		kind  errKind
		code  ErrCode
		check func(s Settings) bool
	}{
		{"6.5.2 HEADER_TABLE_SIZE any value", Setting{SettingHeaderTableSize, 0}, noErr, 0,
			func(s Settings) bool { return s.HeaderTableSize == 0 }},
		{"6.5.2 ENABLE_PUSH 0", Setting{SettingEnablePush, 0}, noErr, 0,
			func(s Settings) bool { return !s.EnablePush }},
		{"6.5.2 ENABLE_PUSH 2 is PROTOCOL_ERROR", Setting{SettingEnablePush, 2}, connErrKind, ErrCodeProtocol, nil},
		{"6.5.2 MAX_CONCURRENT_STREAMS 0 is allowed", Setting{SettingMaxConcurrentStreams, 0}, noErr, 0,
			func(s Settings) bool { return s.MaxConcurrentStreams == 0 }},
		{"6.5.2 INITIAL_WINDOW_SIZE 2^31-1", Setting{SettingInitialWindowSize, MaxWindowSize}, noErr, 0,
			func(s Settings) bool { return s.InitialWindowSize == MaxWindowSize }},
		{"6.5.2 INITIAL_WINDOW_SIZE 2^31 is FLOW_CONTROL_ERROR", Setting{SettingInitialWindowSize, 1 << 31}, connErrKind, ErrCodeFlowControl, nil},
		{"6.5.2 MAX_FRAME_SIZE 16384", Setting{SettingMaxFrameSize, 16384}, noErr, 0,
			func(s Settings) bool { return s.MaxFrameSize == 16384 }},
		{"6.5.2 MAX_FRAME_SIZE 2^24-1", Setting{SettingMaxFrameSize, 1<<24 - 1}, noErr, 0,
			func(s Settings) bool { return s.MaxFrameSize == 1<<24-1 }},
		{"6.5.2 MAX_FRAME_SIZE 16383 is PROTOCOL_ERROR", Setting{SettingMaxFrameSize, 16383}, connErrKind, ErrCodeProtocol, nil},
		{"6.5.2 MAX_FRAME_SIZE 2^24 is PROTOCOL_ERROR", Setting{SettingMaxFrameSize, 1 << 24}, connErrKind, ErrCodeProtocol, nil},
		{"6.5.2 MAX_HEADER_LIST_SIZE", Setting{SettingMaxHeaderListSize, 8192}, noErr, 0,
			func(s Settings) bool { return s.MaxHeaderListSize == 8192 }},
		{"RFC 8441 3 ENABLE_CONNECT_PROTOCOL 1", Setting{SettingEnableConnectProtocol, 1}, noErr, 0,
			func(s Settings) bool { return s.EnableConnectProtocol }},
		{"RFC 9218 2.1 NO_RFC7540_PRIORITIES 2 is PROTOCOL_ERROR", Setting{SettingNoRFC7540Priorities, 2}, connErrKind, ErrCodeProtocol, nil},
		{"6.5.2 unknown setting is ignored", Setting{0x4242, 99}, noErr, 0,
			func(s Settings) bool { return s == DefaultSettings() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			err := s.ApplySetting(tc.in)
			checkErr(t, err, tc.kind, tc.code, 0)
			if err != nil && s != DefaultSettings() {
				t.Fatal("a rejected setting changed the settings")
			}
			if tc.check != nil && !tc.check(s) {
				t.Fatalf("settings after apply: %+v", s)
			}
		})
	}
}

// The SETTINGS frame a server sends first carries exactly what differs
// from the defaults, and the peer's view after applying it equals ours.
func TestAppendSettingsDiffRoundTrip(t *testing.T) {
	s := DefaultSettings()
	s.MaxConcurrentStreams = 250
	s.InitialWindowSize = 1 << 20
	s.MaxFrameSize = 1 << 16
	s.MaxHeaderListSize = 1 << 16
	s.EnablePush = false
	s.EnableConnectProtocol = true
	f, _, err := ReadFrame(AppendSettingsDiff(nil, &s), 0)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, f.NumSettings(), 6)
	peer := DefaultSettings()
	if err := peer.ApplyFrame(&f); err != nil {
		t.Fatal(err)
	}
	eq(t, peer, s)

	def := DefaultSettings()
	f, _, _ = ReadFrame(AppendSettingsDiff(nil, &def), 0)
	eq(t, f.NumSettings(), 0)
}

// RFC 7540 §3.2.1: HTTP2-Settings is a SETTINGS payload in base64url
// without padding.
func TestDecodeHTTP2SettingsHeader(t *testing.T) {
	enc := func(parts ...[]byte) string { return base64.RawURLEncoding.EncodeToString(cat(parts...)) }
	tests := []struct {
		name  string
		in    string
		kind  errKind
		code  ErrCode
		check func(s Settings) bool
	}{
		{"3.2.1 value sent by curl", "AAMAAABkAAQCAAAAAAIAAAAA", noErr, 0, func(s Settings) bool {
			return s.MaxConcurrentStreams == 100 && s.InitialWindowSize == 1<<25 && !s.EnablePush
		}},
		{"3.2.1 surrounding whitespace is trimmed", " \t" + enc(setting(SettingMaxFrameSize, 1<<15)) + " ", noErr, 0,
			func(s Settings) bool { return s.MaxFrameSize == 1<<15 }},
		{"3.2.1 empty value means no parameters", "", noErr, 0, func(s Settings) bool { return s == DefaultSettings() }},
		{"3.2.1 last of a repeated parameter wins", enc(setting(SettingHeaderTableSize, 1), setting(SettingHeaderTableSize, 2)), noErr, 0,
			func(s Settings) bool { return s.HeaderTableSize == 2 }},
		{"3.2.1 url-safe alphabet ('-' and '_')", enc(setting(0xfbff, 0xfbffffff)), noErr, 0,
			func(s Settings) bool { return s == DefaultSettings() }},
		{"3.2.1 standard-alphabet '+' is invalid", "AAMAAABk+AQCAAAA", connErrKind, ErrCodeProtocol, nil},
		{"3.2.1 standard-alphabet '/' is invalid", "AAMAAA/k", connErrKind, ErrCodeProtocol, nil},
		{"3.2.1 padding '=' is invalid (never needed for 6-octet units)", "AAMAAABkAA==", connErrKind, ErrCodeProtocol, nil},
		{"3.2.1 CR or LF inside is invalid (base64 decoders skip them)", "AAMA\nAABk", connErrKind, ErrCodeProtocol, nil},
		{"3.2.1 impossible base64 length", "AAMAA", connErrKind, ErrCodeProtocol, nil},
		{"6.5 payload not a multiple of 6 octets is FRAME_SIZE_ERROR", enc([]byte{0, 3, 0}), connErrKind, ErrCodeFrameSize, nil},
		{"6.5 payload of 7 octets is FRAME_SIZE_ERROR", enc(setting(SettingEnablePush, 0), []byte{1}), connErrKind, ErrCodeFrameSize, nil},
		{"6.5.2 bad parameter value is rejected", enc(setting(SettingMaxConcurrentStreams, 5), setting(SettingEnablePush, 2)),
			connErrKind, ErrCodeProtocol, nil},
		{"6.5.2 window above 2^31-1 is FLOW_CONTROL_ERROR", enc(setting(SettingInitialWindowSize, 1<<31)),
			connErrKind, ErrCodeFlowControl, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			err := DecodeHTTP2SettingsHeader([]byte(tc.in), &s)
			checkErr(t, err, tc.kind, tc.code, 0)
			if err != nil && s != DefaultSettings() {
				t.Fatal("settings changed despite the error")
			}
			if tc.check != nil && !tc.check(s) {
				t.Fatalf("settings: %+v", s)
			}
		})
	}
}

func TestDecodeHTTP2SettingsHeaderAllocs(t *testing.T) {
	v := []byte("AAMAAABkAAQCAAAAAAIAAAAA")
	var s Settings
	if n := testing.AllocsPerRun(100, func() { s = DefaultSettings(); _ = DecodeHTTP2SettingsHeader(v, &s) }); n != 0 {
		t.Fatalf("%v allocs, want 0", n)
	}
}
