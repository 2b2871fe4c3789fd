package main

import (
	"flag"
	"slices"
	"testing"
)

// TestPositional: flags may follow the environment ("slipway rollback
// staging -repo acme/shop"), as well as precede it.
func TestPositional(t *testing.T) {
	tests := []struct {
		args     []string
		wantArgs []string
		wantRepo string
		wantErr  bool
	}{
		{[]string{"staging"}, []string{"staging"}, "", false},
		{[]string{"staging", "-repo", "acme/shop"}, []string{"staging"}, "acme/shop", false},
		{[]string{"staging", "-repo", "acme/shop", "extra"}, []string{"staging", "extra"}, "acme/shop", false},
		{[]string{"staging", "-nope"}, nil, "", true},
		{nil, nil, "", false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(discard{})
		repo := fs.String("repo", "", "")
		got, err := positional(fs, tt.args)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.wantArgs) || *repo != tt.wantRepo {
			t.Errorf("positional(%q) = %q, %v, repo %q; want %q, repo %q", tt.args, got, err, *repo, tt.wantArgs, tt.wantRepo)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
