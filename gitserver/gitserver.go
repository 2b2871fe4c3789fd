// Package gitserver serves a directory of git repositories over HTTP with
// the real `git http-backend` (smart HTTP protocol), the way a small
// self-hosted forge does. The demo and the end-to-end tests use it as the
// user's git host.
package gitserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"time"
)

// Server serves every repository below Root at http://<addr>/<name>.git.
type Server struct {
	Root string
	ln   net.Listener
	srv  *http.Server
}

// Start serves Root on addr ("127.0.0.1:0" picks a free port).
func Start(root, addr string) (*Server, error) {
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("find git http-backend: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	h := &cgi.Handler{
		Path: string(trimNewline(backend)) + "/git-http-backend",
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
		// What git says of a bad request (a commit the repository lacks)
		// reaches the client, which reports it; the server keeps quiet.
		Stderr: io.Discard,
	}
	s := &Server{Root: root, ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL returns the clone URL of the repository name ("acme/shop").
func (s *Server) URL(name string) string {
	return "http://" + s.ln.Addr().String() + "/" + name + ".git"
}

// Close stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
