// Package kubetest gives tests a real Kubernetes control plane on loopback:
// Debian's etcd, kube-apiserver and kube-controller-manager (built by
// scripts/build-kubernetes.sh into $SLIPWAY_HOME/bin), each with its own
// data directory, certificates and free 127.0.0.1 ports, stopped when the
// test ends.
//
// There is no kubelet and no scheduler: pods are created by the real
// controllers (Deployments make ReplicaSets, ReplicaSets and Jobs make
// pods) but nothing runs them. A Node plays the kubelet instead: it watches
// pods and writes their status (Ready, Succeeded, Failed, a termination
// message) as its Policy decides, and the controllers take it from there
// (ReplicaSet and Deployment availability, Job completion).
//
// Without the binaries a test is skipped, except in CI (CI=true), where it
// fails: a missing component must never look like a pass.
package kubetest
