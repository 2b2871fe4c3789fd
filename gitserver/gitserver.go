// Package gitserver serves a directory of git repositories over HTTP with
// the real `git http-backend` (smart HTTP protocol), the way a small
// self-hosted forge does. The demo and the end-to-end tests use it as the
// user's git host.
package gitserver

import (
	"context"
	"crypto/subtle"
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

// Option configures a Server.
type Option func(*options)

type options struct{ user, password string }

// WithBasicAuth has the Server answer only requests that authenticate with
// HTTP basic authentication as user and password, like a private
// repository's host; any other request gets 401 Unauthorized.
func WithBasicAuth(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// Start serves Root on addr ("127.0.0.1:0" picks a free port).
func Start(root, addr string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
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
	var handler http.Handler = h
	if o.user != "" || o.password != "" {
		handler = basicAuth(o.user, o.password, h)
	}
	s := &Server{Root: root, ln: ln, srv: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}
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

// basicAuth passes to next only the requests authenticated as user and
// password.
func basicAuth(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
