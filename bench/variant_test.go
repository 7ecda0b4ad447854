package bench

import (
	"slices"
	"testing"
)

// -servers picks variants of switchyard wherever switchyard runs, and only there.
func TestKeepVariants(t *testing.T) {
	for _, tc := range []struct {
		name          string
		servers, only []string
		want          []string
	}{
		{"no filter", []string{"switchyard", "gws"}, nil, []string{"switchyard", "gws"}},
		{"plain names", []string{"switchyard", "gws", "gnet"}, []string{"gnet", "switchyard"}, []string{"switchyard", "gnet"}},
		{"variants follow switchyard", []string{"switchyard", "gws"},
			[]string{"switchyard", "switchyard+-reuseport", "gws"}, []string{"switchyard", "switchyard+-reuseport", "gws"}},
		{"a variant alone", []string{"switchyard", "gws"}, []string{"switchyard+-loops+1"}, []string{"switchyard+-loops+1"}},
		{"no switchyard in the scenario", []string{"h2c", "nghttpd"}, []string{"switchyard+-reuseport"}, nil},
		{"a peer with flags is not a variant", []string{"switchyard", "gws"}, []string{"gws+-x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keep(tc.servers, tc.only); !slices.Equal(got, tc.want) {
				t.Errorf("keep(%v, %v) = %v, want %v", tc.servers, tc.only, got, tc.want)
			}
		})
	}
}

// A scenario's extras (experiments) run only when -servers names them.
func TestServersForExtras(t *testing.T) {
	sc := Scenario{Servers: []string{"switchyard", "gnet-lean"}, Extra: []string{"uring-lean"}}
	for _, tc := range []struct {
		name       string
		only, want []string
	}{
		{"the suite leaves extras out", nil, []string{"switchyard", "gnet-lean"}},
		{"named peers leave them out", []string{"switchyard", "gnet-lean"}, []string{"switchyard", "gnet-lean"}},
		{"named, an extra runs after the servers", []string{"uring-lean", "switchyard"}, []string{"switchyard", "uring-lean"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sc.serversFor(tc.only); !slices.Equal(got, tc.want) {
				t.Errorf("serversFor(%v) = %v, want %v", tc.only, got, tc.want)
			}
		})
	}
	if len(sc.Servers) != 2 {
		t.Errorf("serversFor changed the scenario's servers: %v", sc.Servers)
	}
}

// A variant's flags go to `switchyard serve`; nothing else takes them.
func TestVariantCommand(t *testing.T) {
	b := Bins{Switchyard: "/sy", Peer: "/peer"}
	argv, err := b.serverCmd("switchyard+-idle-spins+-1+-reuseport", KindEcho, "127.0.0.1:1", false)
	want := []string{"/sy", "serve", "-addr", "127.0.0.1:1", "-log-level", "error", "-idle-spins", "-1", "-reuseport"}
	if err != nil || !slices.Equal(argv, want) {
		t.Fatalf("got %v, %v; want %v", argv, err, want)
	}
	for _, tc := range []struct{ name, kind string }{
		{"gws+-x", KindEcho},
		{"switchyard+-reuseport", KindBroadcast},
	} {
		if argv, err := b.serverCmd(tc.name, tc.kind, "127.0.0.1:1", false); err == nil {
			t.Errorf("%s for %s: got %v, want an error", tc.name, tc.kind, argv)
		}
	}
}
