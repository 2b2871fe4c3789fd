package pipeline

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events/natsjs"
)

// NATSAuth is how a process authenticates to an external NATS server and
// verifies its TLS certificate. At most one of the credentials, NKey seed,
// user and token is used. Secrets come from files (readable by their owner
// only) or SLIPWAY_* environment variables, and are never printed.
type NATSAuth struct {
	CredsFile    string
	NKeyFile     string
	User         string
	Password     secret
	PasswordFile string
	Token        secret
	TokenFile    string
	CAFile       string
	CertFile     string
	KeyFile      string
}

// Bind binds the settings to fs.
func (a *NATSAuth) Bind(fs *flag.FlagSet) {
	fs.StringVar(&a.CredsFile, "nats-creds", a.CredsFile, "NATS credentials file (user JWT and NKey seed)")
	fs.StringVar(&a.NKeyFile, "nats-nkey", a.NKeyFile, "NATS NKey seed file (slipway up writes one per component under <data-dir>/auth)")
	fs.StringVar(&a.User, "nats-user", a.User, "NATS user name (password from SLIPWAY_NATS_PASSWORD or -nats-password-file)")
	fs.Var(&a.Password, "nats-password", "NATS password; prefer SLIPWAY_NATS_PASSWORD or -nats-password-file (a flag shows in ps)")
	fs.StringVar(&a.PasswordFile, "nats-password-file", a.PasswordFile, "file holding the NATS password")
	fs.Var(&a.Token, "nats-token", "NATS token; prefer SLIPWAY_NATS_TOKEN or -nats-token-file (a flag shows in ps)")
	fs.StringVar(&a.TokenFile, "nats-token-file", a.TokenFile, "file holding the NATS token")
	fs.StringVar(&a.CAFile, "nats-ca", a.CAFile, "PEM file of the CA that signed the NATS server's certificate")
	fs.StringVar(&a.CertFile, "nats-cert", a.CertFile, "PEM client certificate for NATS (with -nats-key)")
	fs.StringVar(&a.KeyFile, "nats-key", a.KeyFile, "PEM private key of -nats-cert")
}

// Empty reports whether no credentials are set (TLS settings aside).
func (a *NATSAuth) Empty() bool {
	return a.CredsFile == "" && a.NKeyFile == "" && a.User == "" && a.Token == "" && a.TokenFile == "" &&
		a.Password == "" && a.PasswordFile == ""
}

// Validate reports unusable combinations without reading any file.
func (a *NATSAuth) Validate() error {
	var errs []error
	n := 0
	for _, set := range []bool{a.CredsFile != "", a.NKeyFile != "", a.User != "", a.Token != "" || a.TokenFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, errors.New("nats: use one of -nats-creds, -nats-nkey, -nats-user and -nats-token"))
	}
	if (a.Password != "" || a.PasswordFile != "") && a.User == "" {
		errs = append(errs, errors.New("nats: a password without -nats-user"))
	}
	if a.Password != "" && a.PasswordFile != "" || a.Token != "" && a.TokenFile != "" {
		errs = append(errs, errors.New("nats: a secret given both as a value and as a file"))
	}
	if a.User != "" && a.Password == "" && a.PasswordFile == "" {
		errs = append(errs, errors.New("nats: -nats-user without a password (SLIPWAY_NATS_PASSWORD or -nats-password-file)"))
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		errs = append(errs, errors.New("nats: -nats-cert and -nats-key go together"))
	}
	return errors.Join(errs...)
}

// Options reads the files and returns the nats.go options. Errors name the
// file and what is wrong with it, never a secret.
func (a *NATSAuth) Options() ([]nats.Option, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var opts []nats.Option
	switch {
	case a.CredsFile != "":
		if err := checkCreds(a.CredsFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	case a.NKeyFile != "":
		opt, err := natsjs.SeedOption(a.NKeyFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	case a.User != "":
		pw, err := a.Password.orFile(a.PasswordFile, "password")
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserInfo(a.User, pw))
	case a.Token != "" || a.TokenFile != "":
		tok, err := a.Token.orFile(a.TokenFile, "token")
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Token(tok))
	}
	tlsOpt, err := a.tlsOption()
	if err != nil {
		return nil, err
	}
	if tlsOpt != nil {
		opts = append(opts, tlsOpt)
	}
	return opts, nil
}

// tlsOption returns the TLS configuration of the CA and client certificate
// files, nil without them.
func (a *NATSAuth) tlsOption() (nats.Option, error) {
	if a.CAFile == "" && a.CertFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats ca %s: no PEM certificate in it", a.CAFile)
		}
		cfg.RootCAs = pool
	}
	if a.CertFile != "" {
		if err := natsjs.CheckPrivate(a.KeyFile); err != nil {
			return nil, err
		}
		cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats client certificate %s, key %s: not a matching PEM pair", a.CertFile, a.KeyFile)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return nats.Secure(cfg), nil
}

// checkCreds refuses a credentials file that is not private or holds no
// user JWT and seed, before any connection tries it.
func checkCreds(path string) error {
	if err := natsjs.CheckPrivate(path); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("nats creds: %w", err)
	}
	s := string(data)
	if !strings.Contains(s, "-----BEGIN NATS USER JWT-----") || !strings.Contains(s, "-----BEGIN USER NKEY SEED-----") {
		return fmt.Errorf("nats creds %s: no user JWT and NKey seed in it", path)
	}
	return nil
}

// secret is a flag value that never prints.
type secret string

func (s *secret) String() string {
	if s == nil || *s == "" {
		return ""
	}
	return "***"
}

func (s *secret) Set(v string) error { *s = secret(v); return nil }

// orFile returns the secret, or the first line of file when it is unset.
func (s secret) orFile(file, what string) (string, error) {
	if file == "" {
		return string(s), nil
	}
	if err := natsjs.CheckPrivate(file); err != nil {
		return "", err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("nats %s file: %w", what, err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("nats %s file %s: empty", what, file)
	}
	return v, nil
}
