package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

func TestParseBoundsServices(t *testing.T) {
	of := func(n int) string {
		var b strings.Builder
		b.WriteString("version: 1\nservices:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - name: s%d\n    context: s%d\n    port: 8080\n", i, i)
		}
		return b.String()
	}
	if _, err := manifest.Parse([]byte(of(manifest.MaxServices))); err != nil {
		t.Errorf("Parse() of %d services: %v", manifest.MaxServices, err)
	}
	_, err := manifest.Parse([]byte(of(10000)))
	if want := "slipway.yaml:3: services: lists 10000 services, more than the limit of 200"; !events.IsPermanent(err) || err.Error() != "permanent: "+want {
		t.Errorf("Parse() of 10000 services: error = %v, want %q", err, want)
	}
}

func TestParseNetwork(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    bool
		wantErr string
	}{
		{"left out: no network", "", false, ""},
		{"declared", "    network: true\n", true, ""},
		{"declared off", "    network: false\n", false, ""},
		{"not a boolean", "    network: yes please\n", false, "services[0].network: must be true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte("version: 1\nservices:\n  - name: web\n    context: web\n    port: 8080\n" + tt.line))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Services()[0].Network; got != tt.want {
				t.Errorf("Network = %v, want %v", got, tt.want)
			}
		})
	}
}
