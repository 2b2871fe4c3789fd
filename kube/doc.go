// Package kube is Slipway's Kubernetes target: it runs an environment's
// services as Deployments, Services and Ingresses in a namespace, through
// the API server alone.
//
// What it guarantees:
//
//   - Every object is written with server-side apply under the field
//     manager "slipway" (forcing conflicts: Slipway owns what it declares)
//     and labelled with its repository, environment and service (and the
//     commit), label-safe; everything it reports is read back from those
//     labels and annotations, never from a record of its own.
//   - Images are pulled by digest: <pull registry>/<repo>/<service>@sha256:….
//   - A deploy's health gate is the rollout status of every Deployment:
//     observed generation, updated and available replicas, the Progressing
//     and Available conditions, within a deadline. Pods become ready through
//     their readiness probe (the service's health path), so the previous
//     pods keep serving until the new ones are (maxUnavailable 0). A rollout
//     that does not become available re-applies the previous commit's
//     objects, digests and all, and deletes the services it added.
//   - A service whose image (digest and repository), declared values and
//     secret versions the deploy does not change (target.Unchanged, the
//     rule of every target) keeps its pods: its pod template keeps the
//     commit they were started at (label and SLIPWAY_COMMIT, and the
//     release annotation's "started"), so the apply changes no template
//     and rolls nothing out, while the Deployment's own labels and release
//     annotation carry the new commit, which Current reports.
//   - A successful deploy prunes, by label, the objects of the environment
//     it no longer declares.
//   - A preview (Options.Previews) gets a namespace of its own, removed with
//     everything in it.
//   - Deployment tasks run as Jobs; a failed one reports its exit code and
//     its last log lines (the pod's log, or its termination message, which
//     the kubelet fills from the log's end).
//   - Registry credentials become a kubernetes.io/dockerconfigjson Secret
//     the pods name as their image pull secret; they never reach a log or
//     an error.
//
// What it never does: touch an object it did not label, or read state from
// anywhere but the cluster.
package kube
