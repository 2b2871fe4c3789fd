package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// StateFileName is the file under the data directory where `slipway up`
// writes what it listens on, for the operator's commands to read.
const StateFileName = "up.json"

// State is what a running `slipway up` listens on. It holds no secret: the
// NATS URL is written without credentials, and the keys stay in their own
// files under <data-dir>/auth.
type State struct {
	NATSURL     string `json:"nats_url"`
	HTTPAddr    string `json:"http_addr"`
	ProxyAddr   string `json:"proxy_addr"`
	ProxyDomain string `json:"proxy_domain"`
	DataDir     string `json:"data_dir"`
	PID         int    `json:"pid"`
}

// WriteState writes s to <dir>/up.json, mode 0600, replacing it at once
// (a reader never sees half of it).
func WriteState(dir string, s State) error {
	s.NATSURL = withoutUserinfo(s.NATSURL)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, StateFileName+".*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, StateFileName)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// ReadState reads the state `slipway up` wrote under dir; ok is false when
// there is none.
func ReadState(dir string) (s State, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, false, fmt.Errorf("read state %s: %w", filepath.Join(dir, StateFileName), err)
	}
	return s, true, nil
}

// withoutUserinfo drops the user information of every URL of a
// comma-separated server list; an unparsable one is dropped whole.
func withoutUserinfo(servers string) string {
	var out []string
	for _, p := range strings.Split(servers, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.Host == "" {
			continue
		}
		u.User = nil
		out = append(out, u.String())
	}
	return strings.Join(out, ",")
}
