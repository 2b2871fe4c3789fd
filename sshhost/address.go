package sshhost

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"

	"github.com/slipway-dev/slipway/workflows/target"
)

// DefaultSocket is the Docker socket a host URL without a path names.
const DefaultSocket = "/var/run/docker.sock"

// Address is one Docker host reached over SSH:
// ssh://user@host[:port][/path/of/docker.sock].
type Address struct {
	User   string
	Host   string // host:port, port 22 when the URL has none
	Socket string // the daemon's unix socket on the host
}

// ParseAddress parses a host URL of a targets file. It carries no password:
// the key is a file of the operator's configuration.
func ParseAddress(s string) (Address, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url's error quotes the URL whole, a password with it.
		return Address{}, fmt.Errorf("parse host %q: not a URL", target.Redact(s))
	}
	s = target.Redact(s) // what the errors below may quote
	if u.Scheme != "ssh" {
		return Address{}, fmt.Errorf("host %q: scheme must be ssh", s)
	}
	if _, ok := u.User.Password(); ok {
		return Address{}, fmt.Errorf("host %s: a password has no place in the URL; use a key file", u.Host)
	}
	if u.User.Username() == "" {
		return Address{}, fmt.Errorf("host %q: no user (ssh://user@host)", s)
	}
	if u.Hostname() == "" {
		return Address{}, fmt.Errorf("host %q: no host name", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Address{}, fmt.Errorf("host %s: a query or fragment means nothing here", u.Host)
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	a := Address{User: u.User.Username(), Host: net.JoinHostPort(u.Hostname(), port), Socket: DefaultSocket}
	if u.Path != "" && u.Path != "/" {
		if p := path.Clean(u.Path); p != u.Path {
			return Address{}, errors.New("host " + u.Host + ": socket path " + u.Path + " is not clean")
		}
		a.Socket = u.Path
	}
	return a, nil
}

// String returns the address as a URL, the form ParseAddress reads.
func (a Address) String() string {
	s := "ssh://" + a.User + "@" + a.Host
	if a.Socket != DefaultSocket {
		s += a.Socket
	}
	return s
}
