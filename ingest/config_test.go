package ingest

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/forge"
)

func TestConfigValidate(t *testing.T) {
	secret := [][]byte{[]byte("s")}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring; "" means valid
	}{
		{"repo secrets", Config{Secrets: map[string][][]byte{"a/b": secret}}, ""},
		{"unknown repos only", Config{AllowUnknownRepos: true, FallbackSecrets: secret}, ""},
		{"nothing configured", Config{}, "every delivery would be refused"},
		{"not owner/name", Config{Secrets: map[string][][]byte{"b": secret}}, `"b": want owner/name`},
		{"empty owner", Config{Secrets: map[string][][]byte{"/b": secret}}, "want owner/name"},
		{"spaces", Config{Secrets: map[string][][]byte{" a/b": secret}}, "want owner/name"},
		{"case duplicates", Config{Secrets: map[string][][]byte{"a/b": secret, "A/B": secret}}, "differ only in case"},
		{"no secret", Config{Secrets: map[string][][]byte{"a/b": nil}}, `"a/b": no secret`},
		{"empty secret", Config{Secrets: map[string][][]byte{"a/b": {[]byte("s"), nil}}}, "secret 2 is empty"},
		{"allow without fallback", Config{AllowUnknownRepos: true}, "fallback secrets: no secret"},
		{"fallback without allow", Config{Secrets: map[string][][]byte{"a/b": secret}, FallbackSecrets: secret}, "unknown repositories not allowed"},
		{"negative size", Config{Secrets: map[string][][]byte{"a/b": secret}, MaxBodyBytes: -1}, "negative"},
		{"negative timeout", Config{Secrets: map[string][][]byte{"a/b": secret}, PublishTimeout: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewHandlerDefaults(t *testing.T) {
	reg, err := forge.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config{Secrets: map[string][][]byte{"a/b": {[]byte("s")}}}, reg, &stubPublisher{}, nil)
	if err != nil {
		t.Fatalf("NewHandler() = %v", err)
	}
	if h.cfg.MaxBodyBytes != DefaultMaxBodyBytes || h.cfg.PublishTimeout != DefaultPublishTimeout {
		t.Errorf("defaults not applied: %+v", h.cfg)
	}
	if _, err := NewHandler(Config{}, reg, &stubPublisher{}, nil); err == nil {
		t.Error("NewHandler() accepted an invalid config")
	}
	if _, err := NewHandler(h.cfg, reg, nil, nil); err == nil {
		t.Error("NewHandler() accepted a nil publisher")
	}
}
