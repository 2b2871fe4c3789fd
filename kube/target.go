package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/tasks"
)

var (
	_ target.Target = (*Target)(nil)
	_ deploy.Target = (*Target)(nil)
	_ tasks.Runner  = (*Target)(nil)
)

// Target deploys environments to a Kubernetes cluster.
type Target struct {
	opts   Options
	client kubernetes.Interface
}

// New returns a Target for the cluster opts names.
func New(opts Options) (*Target, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cfg := opts.Config
	var err error
	switch {
	case cfg != nil:
	case opts.Kubeconfig == "":
		if cfg, err = rest.InClusterConfig(); err != nil {
			return nil, fmt.Errorf("kubernetes target: no kubeconfig and not in a pod: %w", err)
		}
	default:
		if cfg, err = clientcmd.BuildConfigFromFlags("", opts.Kubeconfig); err != nil {
			return nil, fmt.Errorf("kubernetes target: read kubeconfig %s: %w", opts.Kubeconfig, err)
		}
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes target: client: %w", err)
	}
	return &Target{opts: opts, client: client}, nil
}

// Dial connects to an address the target reported (Current, ResolveAll)
// through Options.Dial.
func (t *Target) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if t.opts.Dial != nil {
		return t.opts.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Close releases nothing: the client's connections are pooled by its
// transport.
func (t *Target) Close() error { return nil }

// Namespace returns the namespace env of repo runs in.
func (t *Target) Namespace(repo, env string) string {
	if t.preview(repo, env) {
		return hashed(t.opts.Namespace+"-"+env+"\x00"+events.RepoToken(repo), 40)
	}
	return t.opts.Namespace
}

func (t *Target) preview(repo, env string) bool {
	return t.opts.Previews != nil && t.opts.Previews(repo, env)
}

// ensureNamespace applies a preview's own namespace.
func (t *Target) ensureNamespace(ctx context.Context, repo, env string) error {
	if !t.preview(repo, env) {
		return nil
	}
	l := envLabels(repo, env)
	l[LabelPreview] = "true"
	ns := corev1ac.Namespace(t.Namespace(repo, env)).WithLabels(l).WithAnnotations(map[string]string{AnnotationRepo: repo})
	_, err := t.client.CoreV1().Namespaces().Apply(ctx, ns, applyOptions)
	return apiError("apply namespace "+t.Namespace(repo, env), err)
}

// applyOptions are those of every apply: Slipway's field manager, owning
// what it declares even where another manager set it.
var applyOptions = metav1.ApplyOptions{FieldManager: FieldManager, Force: true}

// apiError wraps an API server error with its policy: a request the
// server refuses for what it is (invalid, forbidden) is permanent, any
// other failure (unreachable, timeouts, conflicts) retryable.
func apiError(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", op, err)
	switch {
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsUnauthorized(err),
		apierrors.IsBadRequest(err), apierrors.IsMethodNotSupported(err), apierrors.IsNotAcceptable(err):
		return events.Permanent(err)
	}
	var uerr *url.Error
	var nerr net.Error
	if errors.As(err, &uerr) || errors.As(err, &nerr) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsConflict(err) || apierrors.IsInternalError(err) {
		return events.Retryable(err, retryAfter)
	}
	return err
}
