package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"reflect"
	"strconv"
	"strings"
)

// A Unix-domain socket listener is server.Config.Addr's "unix:" form, in -addr, -tls-addr
// and the config file's "addr" keys alike: "unix:/run/switchyard.sock".

func isUnixAddr(addr string) bool { return strings.HasPrefix(addr, "unix:") }

// shownAddr is a listener's address as -addr spells it, so that what serve prints can be
// given back to it (and to clients such as curl --unix-socket, without the prefix).
func shownAddr(a net.Addr) string {
	if u, ok := a.(*net.UnixAddr); ok {
		return "unix:" + u.Name
	}
	return a.String()
}

// fileMode is a socket file's permission bits, written in octal ("0660") as chmod takes
// them: a JSON string in the file ("unix_mode"), the value of -unix-mode. 0 leaves them to
// the umask.
type fileMode fs.FileMode

func (m *fileMode) Set(v string) error {
	n, err := strconv.ParseUint(v, 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("%q is not an octal mode such as 0660", v)
	}
	*m = fileMode(n)
	return nil
}

func (m *fileMode) String() string { return "0" + strconv.FormatUint(uint64(*m), 8) }

func (m *fileMode) UnmarshalJSON(b []byte) error {
	// A *json.UnmarshalTypeError gets the key's path from the decoder (loadConfigFile).
	var s string
	if json.Unmarshal(b, &s) != nil || m.Set(s) != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[fileMode]()}
	}
	return nil
}
