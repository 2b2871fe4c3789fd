package gitmirror_test

import (
	"context"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

func TestIsAncestor(t *testing.T) {
	repo := gittest.MustRepo(t)
	first := repo.Commit("first")
	second := repo.Commit("second")
	repo.Git("checkout", "--quiet", "-b", "side", first)
	side := repo.Commit("side")
	repo.Git("checkout", "--quiet", "main")
	src := repo.Events("acme/shop")
	m := mustMirror(t)
	tests := []struct {
		name                 string
		ancestor, descendant string
		want                 bool
		wantPermanent        bool
	}{
		{name: "parent", ancestor: first, descendant: second, want: true},
		{name: "child", ancestor: second, descendant: first},
		{name: "itself", ancestor: second, descendant: second, want: true},
		{name: "diverged (force-push)", ancestor: second, descendant: side},
		{name: "unknown commit", ancestor: "0123456789abcdef0123456789abcdef01234567", descendant: second, wantPermanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.IsAncestor(context.Background(), src, tt.ancestor, tt.descendant)
			if tt.wantPermanent {
				if !events.IsPermanent(err) {
					t.Fatalf("IsAncestor() error = %v, want permanent", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("IsAncestor() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
