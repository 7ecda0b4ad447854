package main

import "testing"

// -nats comes from the flag or the config file's "nats" key, the flag winning; without
// either, broadcast rooms stay in the process.
func TestNATSFlagAndConfigKey(t *testing.T) {
	file := writeConfig(t, `{"nats": "nats://from-file:4222"}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-nats", "nats://127.0.0.1:4222"}, "nats://127.0.0.1:4222"},
		{[]string{"-config", file}, "nats://from-file:4222"},
		{[]string{"-config", file, "-nats", "nats://flag:1"}, "nats://flag:1"},
	} {
		cfg, err := parseServeArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.NATS != tc.want || cfg.rooms != nil {
			t.Errorf("%q: NATS %q (rooms set: %v), want %q", tc.args, cfg.NATS, cfg.rooms != nil, tc.want)
		}
	}
}
