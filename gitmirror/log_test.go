package gitmirror_test

import (
	"context"
	"testing"

	"github.com/slipway-dev/slipway/gitmirror/gittest"
)

func TestLog(t *testing.T) {
	repo := gittest.MustRepo(t)
	first := repo.Commit("first")
	second := repo.Commit("second")
	third := repo.Commit("third")
	src := repo.Events("acme/shop")
	m := mustMirror(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		from, to  string
		max       int
		wantN     int
		wantFirst string
		wantLen   int
	}{
		{"range", first, third, 10, 2, "third", 2},
		{"capped", first, third, 1, 2, "third", 1},
		{"history", "", second, 10, 2, "second", 2},
		{"backwards", third, first, 10, 0, "", 0},
		{"same", second, second, 10, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := m.Log(ctx, src, tt.from, tt.to, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantN || len(got) != tt.wantLen || (tt.wantLen > 0 && got[0].Message != tt.wantFirst) {
				t.Fatalf("Log() = %+v, %d; want %d commits starting %q", got, n, tt.wantN, tt.wantFirst)
			}
			if tt.wantLen > 0 && (got[0].ID == "" || got[0].Author == "") {
				t.Errorf("commit %+v lacks id or author", got[0])
			}
		})
	}
}

func TestBranchExists(t *testing.T) {
	repo := gittest.MustRepo(t)
	repo.Commit("first")
	repo.Git("branch", "feature")
	src := repo.Events("acme/shop")
	m := mustMirror(t)
	ctx := context.Background()
	for branch, want := range map[string]bool{"main": true, "feature": true, "gone": false, "feat": false} {
		got, err := m.BranchExists(ctx, src, branch)
		if err != nil || got != want {
			t.Errorf("BranchExists(%q) = %v, %v; want %v", branch, got, err, want)
		}
	}
	src.CloneURL = "http://127.0.0.1:1/nothing.git"
	if _, err := m.BranchExists(ctx, src, "main"); err == nil {
		t.Error("an unreachable remote answered")
	}
}
