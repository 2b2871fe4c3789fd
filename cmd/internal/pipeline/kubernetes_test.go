package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/kube"
	"github.com/slipway-dev/slipway/workflows/target"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-a-secret}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`

func TestKubernetesTargetLine(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		line    string
		wantErr string
	}{
		{"minimal", "target cluster kubernetes kubeconfig=" + kc + " namespace=shop", ""},
		{"all options", "target cluster kubernetes kubeconfig=" + kc + " namespace=shop ingress-class=nginx rollout-timeout=2m previews=pr-*,review-* pull-registry=registry.internal:5000", ""},
		{"no namespace", "target cluster kubernetes kubeconfig=" + kc, "namespace= is required"},
		{"bad namespace", "target cluster kubernetes kubeconfig=" + kc + " namespace=Shop_1", "not a DNS label"},
		{"unknown option", "target cluster kubernetes kubeconfig=" + kc + " namespace=shop replicas=3", "unknown option replicas"},
		{"endpoint", "target cluster kubernetes https://k8s.example.com kubeconfig=" + kc + " namespace=shop", "takes no endpoints"},
		{"bad timeout", "target cluster kubernetes kubeconfig=" + kc + " namespace=shop rollout-timeout=soon", "rollout-timeout=soon"},
		{"bad previews", "target cluster kubernetes kubeconfig=" + kc + " namespace=shop previews=pr", "want <template>-*"},
		{"missing kubeconfig", "target cluster kubernetes kubeconfig=/nonexistent/kubeconfig namespace=shop", "read kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, err := target.Parse(strings.NewReader(tt.line), "targets")
			if err != nil {
				t.Fatalf("parse %q: %v", tt.line, err)
			}
			tg, err := makeTarget(context.Background(), &Config{Registry: "localhost:5000"}, pc.Targets[0])
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("makeTarget(%q) = %v, want an error with %q", tt.line, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("makeTarget(%q): %v", tt.line, err)
			}
			if _, ok := tg.(*kube.Target); !ok {
				t.Fatalf("makeTarget(%q) = %T, want *kube.Target", tt.line, tg)
			}
		})
	}
}

func TestPreviewTemplates(t *testing.T) {
	is, err := previewTemplates("pr-*,review-*")
	if err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]bool{"pr-7": true, "review-12": true, "pr-": false, "pr-x": false, "staging": false, "prod-1": false} {
		if got := is("acme/shop", env); got != want {
			t.Errorf("preview(%s) = %v, want %v", env, got, want)
		}
	}
	if none, err := previewTemplates("none"); err != nil || none != nil {
		t.Errorf("previews=none: %v, %v", none != nil, err)
	}
}
