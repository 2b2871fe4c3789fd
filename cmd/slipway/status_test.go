package main

import (
	"testing"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

func TestServiceStatus(t *testing.T) {
	tests := []struct {
		name string
		s    deploy.ServiceState
		want string
	}{
		{"one container", deploy.ServiceState{Running: true, Replicas: 1, Up: 1}, "running"},
		{"target without counts", deploy.ServiceState{Running: true}, "running"},
		{"all replicas", deploy.ServiceState{Running: true, Replicas: 3, Up: 3}, "running 3/3"},
		{"one replica down", deploy.ServiceState{Replicas: 3, Up: 2}, "degraded 2/3"},
		{"stopped", deploy.ServiceState{Replicas: 1}, "stopped"},
		{"every replica down", deploy.ServiceState{Replicas: 2}, "stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serviceStatus(tt.s); got != tt.want {
				t.Errorf("serviceStatus(%+v) = %q, want %q", tt.s, got, tt.want)
			}
		})
	}
}
