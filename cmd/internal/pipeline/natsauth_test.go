package pipeline_test

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/internal/testca"
)

// TestNATSAuth starts a real nats-server (in process, on a real TCP or TLS
// listener) per kind of authentication and starts a component against it
// through its flags: good settings connect and provision JetStream; bad
// ones fail at once with an error naming the server and what is wrong,
// never the secret.
func TestNATSAuth(t *testing.T) {
	dir := t.TempDir()
	ca := testca.MustNew(t, "slipway test ca")
	other := testca.MustNew(t, "someone else")
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	userKey, userSeed := newUserKey(t)
	creds, account := newCreds(t)
	caFile := file("ca.pem", string(ca.PEM))
	certFile, keyFile := ca.IssueClient(t, "client").Write(t, dir, "client")
	otherCertFile, otherKeyFile := other.IssueClient(t, "client").Write(t, dir, "other")
	worldReadable := file("world.nk", string(userSeed))
	if err := os.Chmod(worldReadable, 0o644); err != nil {
		t.Fatal(err)
	}

	token := startNATS(t, &server.Options{Authorization: "s3cret-token"})
	userPass := startNATS(t, &server.Options{Username: "slipway", Password: "s3cret-password"})
	nkey := startNATS(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: userKey}}})
	operator := startNATS(t, account)
	mtls := startNATS(t, serverOptions(t, ca, time.Hour))
	expired := startNATS(t, serverOptions(t, ca, -time.Hour))

	tests := []struct {
		name    string
		url     string
		args    []string
		env     map[string]string
		wantErr string // "" connects
	}{
		{name: "token file", url: token, args: []string{"-nats-token-file", file("token", "s3cret-token\n")}},
		{name: "token from the environment", url: token, env: map[string]string{"SLIPWAY_NATS_TOKEN": "s3cret-token"}},
		{name: "wrong token", url: token, args: []string{"-nats-token-file", file("bad-token", "wrong-token")}, wantErr: "refused the credentials"},
		{name: "user and password", url: userPass, args: []string{"-nats-user", "slipway"}, env: map[string]string{"SLIPWAY_NATS_PASSWORD": "s3cret-password"}},
		{name: "password file", url: userPass, args: []string{"-nats-user", "slipway", "-nats-password-file", file("pw", "s3cret-password")}},
		{name: "wrong password", url: userPass, args: []string{"-nats-user", "slipway", "-nats-password-file", file("bad-pw", "wrong-password")}, wantErr: "refused the credentials"},
		{name: "no credentials", url: userPass, wantErr: "refused the credentials"},
		{name: "nkey seed", url: nkey, args: []string{"-nats-nkey", file("user.nk", string(userSeed))}},
		{name: "world-readable nkey seed", url: nkey, args: []string{"-nats-nkey", worldReadable}, wantErr: "chmod 600"},
		{name: "missing nkey seed", url: nkey, args: []string{"-nats-nkey", filepath.Join(dir, "missing.nk")}, wantErr: "no such file"},
		{name: "creds file", url: operator, args: []string{"-nats-creds", file("user.creds", creds)}},
		{name: "malformed creds file", url: operator, args: []string{"-nats-creds", file("bad.creds", "not a creds file")}, wantErr: "no user JWT and NKey seed"},
		{name: "tls with ca and client certificate", url: mtls, args: []string{"-nats-ca", caFile, "-nats-cert", certFile, "-nats-key", keyFile}},
		{name: "tls without client certificate", url: mtls, args: []string{"-nats-ca", caFile}, wantErr: "TLS failed"},
		{name: "tls client certificate of another ca", url: mtls, args: []string{"-nats-ca", caFile, "-nats-cert", otherCertFile, "-nats-key", otherKeyFile}, wantErr: "TLS failed"},
		{name: "tls server of an untrusted ca", url: mtls, args: []string{"-nats-ca", file("other-ca.pem", string(other.PEM)), "-nats-cert", certFile, "-nats-key", keyFile}, wantErr: "TLS failed"},
		{name: "tls server certificate expired", url: expired, args: []string{"-nats-ca", caFile, "-nats-cert", certFile, "-nats-key", keyFile}, wantErr: "TLS failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			m := &pipeline.Main{Name: "builder", Bind: (*pipeline.Config).BindBuilder, Stderr: os.Stderr}
			if err := m.ParseFlags(append([]string{"-nats-url", tt.url}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err := m.Start(ctx)
			took := time.Since(start)
			defer m.Close()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("start: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("started, want an error about %q", tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q does not say %q", msg, tt.wantErr)
			}
			if strings.Contains(msg, "nats") && strings.Contains(msg, "connect") && !strings.Contains(msg, tt.url) {
				t.Errorf("connection error %q does not name the server %s", msg, tt.url)
			}
			for _, secret := range []string{"s3cret", "wrong-", string(userSeed)} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows a secret", msg)
				}
			}
			if took > 5*time.Second {
				t.Errorf("failing took %s, want a prompt error", took)
			}
		})
	}
}

// TestNATSURLCredentialsRedacted: credentials in the URL never reach the
// error.
func TestNATSURLCredentialsRedacted(t *testing.T) {
	url := startNATS(t, &server.Options{Username: "slipway", Password: "s3cret-password"})
	withCreds := strings.Replace(url, "nats://", "nats://slipway:wrong-password@", 1)
	_, err := natsjs.Connect(withCreds, t.Name())
	if err == nil {
		t.Fatal("connected with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong-password") || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("error = %q", err)
	}
}

// TestNATSAuthProvisionsAndPublishes: with credentials the component's
// connection carries events (JetStream works, not only the handshake).
func TestNATSAuthProvisionsAndPublishes(t *testing.T) {
	url := startNATS(t, &server.Options{Authorization: "s3cret-token"})
	t.Setenv("SLIPWAY_NATS_TOKEN", "s3cret-token")
	m := &pipeline.Main{Name: "ingest", Bind: (*pipeline.Config).BindIngest, Stderr: os.Stderr}
	if err := m.ParseFlags([]string{"-nats-url", url}); err != nil {
		t.Fatal(err)
	}
	ctx, err := m.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := pipeline.AttachOperator(&m.Config, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pub := natsjs.NewPublisher(c.JS, "/test")
	ev := &events.PushReceived{Repo: events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "https://example.com/acme/shop.git", DefaultBranch: "main"},
		Ref: "refs/heads/main", Branch: "main", After: strings.Repeat("a", 40)}
	if _, err := pub.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
	got, err := natsjs.Events(ctx, c.JS, events.SubjectPushReceived)
	if err != nil || len(got) != 1 {
		t.Fatalf("stored %d push events (%v), want 1", len(got), err)
	}
}

// startNATS runs a JetStream server with opts on a free loopback port and
// returns its URL.
func startNATS(t *testing.T, opts *server.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.JetStream, opts.StoreDir = "127.0.0.1", -1, true, t.TempDir()
	opts.NoLog, opts.NoSigs = os.Getenv("NATS_TEST_LOG") == "", true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !opts.NoLog {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

func newUserKey(t *testing.T) (public string, seed []byte) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ = kp.Seed()
	return pub, seed
}

// newCreds returns a creds file of a user of an account with JetStream,
// and the options of a server trusting the account's operator.
func newCreds(t *testing.T) (string, *server.Options) {
	t.Helper()
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	opClaims := jwt.NewOperatorClaims(opPub)
	opJWT, err := opClaims.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := nkeys.CreateAccount()
	accPub, _ := acc.PublicKey()
	accClaims := jwt.NewAccountClaims(accPub)
	accClaims.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	accJWT, err := accClaims.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	userSeed, _ := user.Seed()
	uc := jwt.NewUserClaims(userPub)
	uc.IssuerAccount = accPub
	userJWT, err := uc.Encode(acc)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(userJWT, userSeed)
	if err != nil {
		t.Fatal(err)
	}
	opc, err := jwt.DecodeOperatorClaims(opJWT)
	if err != nil {
		t.Fatal(err)
	}
	sys, _ := nkeys.CreateAccount()
	sysPub, _ := sys.PublicKey()
	sysJWT, err := jwt.NewAccountClaims(sysPub).Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	for pub, claims := range map[string]string{accPub: accJWT, sysPub: sysJWT} {
		if err := resolver.Store(pub, claims); err != nil {
			t.Fatal(err)
		}
	}
	return string(creds), &server.Options{TrustedOperators: []*jwt.OperatorClaims{opc}, AccountResolver: resolver, SystemAccount: sysPub}
}

// serverOptions are those of a server presenting a certificate of ca
// valid for ttl and requiring a client certificate of ca.
func serverOptions(t *testing.T, ca *testca.CA, ttl time.Duration) *server.Options {
	t.Helper()
	cert := ca.Issue(t, time.Now().Add(-2*time.Hour), time.Now().Add(ttl), "127.0.0.1").TLS(t)
	return &server.Options{
		TLS: true, TLSVerify: true,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca.Pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12},
	}
}
