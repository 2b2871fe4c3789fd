package main

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/manifest"
)

func TestReadSecretValue(t *testing.T) {
	long := strings.Repeat("x", manifest.MaxEnvEntry)
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"final newline dropped", "s3cr3t\n", "s3cr3t", ""},
		{"final CRLF dropped", "s3cr3t\r\n", "s3cr3t", ""},
		{"no newline", "s3cr3t", "s3cr3t", ""},
		{"inner newlines kept", "line one\nline two\n", "line one\nline two", ""},
		{"empty", "", "", "empty value"},
		{"only a newline", "\n", "", "empty value"},
		{"NUL byte", "s3c\x00r3t", "", "NUL byte"},
		{"too long", long, "", "longer than an environment variable may be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readValue(strings.NewReader(tt.in), "DB")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "DB") {
					t.Fatalf("readValue = %q, %v; want an error naming DB: %q", got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3c") {
					t.Errorf("error %q repeats the value", err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("readValue = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestSecretSetRefusesBadArguments: bad names and environments are
// refused before the value is read or NATS is reached.
func TestSecretSetRefusesBadArguments(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"staging"}, flag.ErrHelp.Error()},
		{[]string{"staging", "database-url"}, `"database-url": secret name must match [A-Za-z_][A-Za-z0-9_]*`},
		{[]string{"staging", "1DB"}, `"1DB": secret name must match`},
		{[]string{"staging", "SLIPWAY_COMMIT"}, "must not start with SLIPWAY_"},
		{[]string{"Staging", "DB"}, `environment "Staging": must contain only lower-case letters`},
		{[]string{"staging", "bad name", "-redeploy"}, `"bad name": secret name must match`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := secretSetCommand().ParseAndRun(context.Background(), tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("secret set %q: %v, want %q", tt.args, err, tt.wantErr)
			}
			if errors.Is(err, flag.ErrHelp) != (tt.wantErr == flag.ErrHelp.Error()) {
				t.Errorf("secret set %q: %v, help only for a wrong argument count", tt.args, err)
			}
		})
	}
	for _, args := range [][]string{{"staging", "bad-name"}, {"staging"}} {
		if err := secretRmCommand().ParseAndRun(context.Background(), args); err == nil {
			t.Errorf("secret rm %q succeeded", args)
		}
	}
}
