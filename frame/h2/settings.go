package h2

import (
	"math"
	"strconv"
)

// SettingID identifies a SETTINGS parameter (RFC 9113 §6.5.2, §11.3).
type SettingID uint16

// Setting identifiers. ENABLE_CONNECT_PROTOCOL is RFC 8441 §3,
// NO_RFC7540_PRIORITIES RFC 9218 §2.1.
const (
	SettingHeaderTableSize       SettingID = 0x1
	SettingEnablePush            SettingID = 0x2
	SettingMaxConcurrentStreams  SettingID = 0x3
	SettingInitialWindowSize     SettingID = 0x4
	SettingMaxFrameSize          SettingID = 0x5
	SettingMaxHeaderListSize     SettingID = 0x6
	SettingEnableConnectProtocol SettingID = 0x8
	SettingNoRFC7540Priorities   SettingID = 0x9
)

var settingNames = [...]string{
	SettingHeaderTableSize:       "HEADER_TABLE_SIZE",
	SettingEnablePush:            "ENABLE_PUSH",
	SettingMaxConcurrentStreams:  "MAX_CONCURRENT_STREAMS",
	SettingInitialWindowSize:     "INITIAL_WINDOW_SIZE",
	SettingMaxFrameSize:          "MAX_FRAME_SIZE",
	SettingMaxHeaderListSize:     "MAX_HEADER_LIST_SIZE",
	SettingEnableConnectProtocol: "ENABLE_CONNECT_PROTOCOL",
	SettingNoRFC7540Priorities:   "NO_RFC7540_PRIORITIES",
}

func (s SettingID) String() string {
	if int(s) < len(settingNames) && settingNames[s] != "" {
		return settingNames[s]
	}
	return "UNKNOWN_SETTING_" + strconv.Itoa(int(s))
}

// MaxWindowSize is the largest flow-control window, 2^31-1 (RFC 9113 §6.9.1).
const MaxWindowSize = 1<<31 - 1

// Unlimited is the value of a Settings field whose RFC default is "no limit".
const Unlimited = math.MaxUint32

// Setting is one SETTINGS parameter.
type Setting struct {
	ID  SettingID
	Val uint32
}

var (
	errEnablePush      = connErr(ErrCodeProtocol, "SETTINGS_ENABLE_PUSH not 0 or 1")
	errInitialWindow   = connErr(ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1")
	errMaxFrameSize    = connErr(ErrCodeProtocol, "SETTINGS_MAX_FRAME_SIZE outside 16384..16777215")
	errConnectProtocol = connErr(ErrCodeProtocol, "SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1")
	errNoRFC7540Prio   = connErr(ErrCodeProtocol, "SETTINGS_NO_RFC7540_PRIORITIES not 0 or 1")
	errSettingsBase64  = connErr(ErrCodeProtocol, "HTTP2-Settings is not base64url")
	errSettingsB64Len  = connErr(ErrCodeFrameSize, "HTTP2-Settings payload not a multiple of 6 octets")
)

// Valid checks the value against the bounds of RFC 9113 §6.5.2 (and
// RFC 8441 §3, RFC 9218 §2.1), returning the ConnectionError the peer has
// earned, or nil. Unknown identifiers are valid: §6.5.2 says to ignore them.
func (s Setting) Valid() error {
	switch s.ID {
	case SettingEnablePush:
		if s.Val > 1 {
			return errEnablePush
		}
	case SettingInitialWindowSize:
		if s.Val > MaxWindowSize {
			return errInitialWindow
		}
	case SettingMaxFrameSize:
		if s.Val < MinMaxFrameSize || s.Val > MaxMaxFrameSize {
			return errMaxFrameSize
		}
	case SettingEnableConnectProtocol:
		if s.Val > 1 {
			return errConnectProtocol
		}
	case SettingNoRFC7540Priorities:
		if s.Val > 1 {
			return errNoRFC7540Prio
		}
	}
	return nil
}

// Settings holds one side's SETTINGS parameters.
type Settings struct {
	HeaderTableSize       uint32
	EnablePush            bool
	MaxConcurrentStreams  uint32 // Unlimited when not set
	InitialWindowSize     uint32
	MaxFrameSize          uint32
	MaxHeaderListSize     uint32 // Unlimited when not set
	EnableConnectProtocol bool
	NoRFC7540Priorities   bool
}

// DefaultSettings returns the initial values of RFC 9113 §6.5.2, which hold
// until the peer's first SETTINGS frame says otherwise.
func DefaultSettings() Settings {
	return Settings{
		HeaderTableSize:      4096,
		EnablePush:           true,
		MaxConcurrentStreams: Unlimited,
		InitialWindowSize:    65535,
		MaxFrameSize:         MinMaxFrameSize,
		MaxHeaderListSize:    Unlimited,
	}
}

// ApplySetting validates st (see Setting.Valid) and records it. Unknown
// identifiers are ignored.
func (s *Settings) ApplySetting(st Setting) error {
	if err := st.Valid(); err != nil {
		return err
	}
	switch st.ID {
	case SettingHeaderTableSize:
		s.HeaderTableSize = st.Val
	case SettingEnablePush:
		s.EnablePush = st.Val == 1
	case SettingMaxConcurrentStreams:
		s.MaxConcurrentStreams = st.Val
	case SettingInitialWindowSize:
		s.InitialWindowSize = st.Val
	case SettingMaxFrameSize:
		s.MaxFrameSize = st.Val
	case SettingMaxHeaderListSize:
		s.MaxHeaderListSize = st.Val
	case SettingEnableConnectProtocol:
		s.EnableConnectProtocol = st.Val == 1
	case SettingNoRFC7540Priorities:
		s.NoRFC7540Priorities = st.Val == 1
	}
	return nil
}

// ApplyFrame applies every parameter of a SETTINGS frame in order (so a
// repeated parameter's last value wins). It ignores other frames and ACKs.
// A change of INITIAL_WINDOW_SIZE also changes every open stream's window
// (RFC 9113 §6.9.2): the caller compares the value before and after.
func (s *Settings) ApplyFrame(f *Frame) error {
	for i, n := 0, f.NumSettings(); i < n; i++ {
		if err := s.ApplySetting(f.Setting(i)); err != nil {
			return err
		}
	}
	return nil
}

// AppendSettingsDiff appends a SETTINGS frame announcing every parameter of
// s that differs from DefaultSettings, the frame a server starts its
// preface with (RFC 9113 §3.4).
func AppendSettingsDiff(dst []byte, s *Settings) []byte {
	def := DefaultSettings()
	var buf [8]Setting
	list := buf[:0]
	add := func(id SettingID, v, d uint32) {
		if v != d {
			list = append(list, Setting{id, v})
		}
	}
	add(SettingHeaderTableSize, s.HeaderTableSize, def.HeaderTableSize)
	add(SettingEnablePush, b2u(s.EnablePush), b2u(def.EnablePush))
	add(SettingMaxConcurrentStreams, s.MaxConcurrentStreams, def.MaxConcurrentStreams)
	add(SettingInitialWindowSize, s.InitialWindowSize, def.InitialWindowSize)
	add(SettingMaxFrameSize, s.MaxFrameSize, def.MaxFrameSize)
	add(SettingMaxHeaderListSize, s.MaxHeaderListSize, def.MaxHeaderListSize)
	add(SettingEnableConnectProtocol, b2u(s.EnableConnectProtocol), 0)
	add(SettingNoRFC7540Priorities, b2u(s.NoRFC7540Priorities), 0)
	return AppendSettings(dst, list...)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
