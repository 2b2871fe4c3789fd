// Package docker runs Slipway environments as containers on one Docker daemon.
// Target implements target.Target (and so deploy.Target) with the Docker
// Engine API (1.41 and later) and passes targettest.Run.
//
// Contract:
//
//   - Actual state lives in Docker alone. Every container carries the labels
//     slipway.env, slipway.service, slipway.commit, slipway.repo,
//     slipway.digest, slipway.image, slipway.port, slipway.replica (its index,
//     from 0), slipway.replicas (its service's count), slipway.spec (the
//     service as declared, so Running can read a release back to deploy it
//     again and a host proxy its host names) and slipway.secrets
//     ("NAME=<version>,…") when its service references secrets; Current,
//     Resolve, ResolveAll and Running read them back and keep no state of
//     their own.
//   - A service's secrets (Deployment.Secrets it names) are in its
//     containers' and tasks' environment only: never in a label (not even
//     hashed) or a log, and replaced by "[secret NAME]" in the log lines
//     of a deploy error and in a task's output.
//   - An environment belongs to a repository: every read and write filters on
//     slipway.repo as well as slipway.env, so two repositories' environments
//     of one name never see each other's containers.
//   - A container belongs to the environment its name is in
//     ("slipway.<repo>.<env>.…"); slipway.env is the one it was started in.
//     They differ only for a container a Deploy with Deployment.From (a
//     promoted canary) moved in: it runs the service with the deployment's
//     image, values and secrets in From, so it is health-checked and
//     renamed into the environment instead of a new one being created and
//     started (its SLIPWAY_ENV stays From's). It reads back with the
//     environment in its labels, and a Remove of From leaves it alone.
//   - A service runs ServiceSpec.Replicas containers (0 means 1). Replica 0
//     is named "slipway.<repo>.<env>.<service>" (events.RepoToken), replica
//     i that and ".r<i>"; no part holds a ".", so no two names meet. Each
//     publishes its port on 127.0.0.1 only, on a port the daemon picks, and
//     gets SLIPWAY_REPLICA=<i>. A container holding a live name is replaced
//     only when its labels name the deployment's repository, environment
//     and service. Adopt renames the "slipway-<env>-<service>[-r<i>]"
//     containers of earlier versions.
//   - Current reports a service Running only when every replica it declares
//     runs the same release; Addr is replica 0's, Addrs every replica's,
//     Instances each replica on Options.Node ("local" by default).
//   - Health probes and Dial reach the published ports through
//     Options.Dial (directly when nil): nothing else assumes the daemon
//     runs on this machine. A failed health gate is a
//     *deploy.UnhealthyError, its message "service <s> (container <name>):
//     <reason>; last log lines: ...", with " on <node>" for a node other
//     than local.
//     Resolve returns replica 0, ResolveAll every running replica, for the
//     proxy to spread requests over.
//   - Deploy pulls by digest, never by tag, and starts every new container
//     beside the running ones under a candidate name, one per replica. It
//     switches names only when every candidate of every service answers its
//     health check with a 2xx; until then the previous release, all its
//     replicas, serves untouched. Replicas beyond the new count (scaling
//     down) are drained and removed like replaced containers. When any candidate fails, every
//     candidate is removed and the error is events.Permanent with the reason
//     and the last lines of the container's log.
//   - Every container, a service's or a task's, is confined by Options.Limits:
//     a memory limit (swap included) and a pids limit, by default 512 MiB
//     and 512, raised or lowered by the service's resources up to the
//     operator's maxima; no-new-privileges; every capability dropped but a
//     small set (DefaultCapabilities); the service's user, or the image's.
//     A service beyond a maximum, or whose environment the runtime would
//     refuse (a NUL byte, '=' in a name), is events.Permanent before any
//     container starts.
//   - Containers run with Docker's init as PID 1, so SIGTERM reaches the
//     server. A candidate has no restart policy, so a crash fails the deploy
//     at once; a promoted container restarts unless stopped.
//   - A replaced container keeps running after it lost the live name until
//     Options.Drainer (the deployer's proxy), told it was retired so that
//     new requests go to its replacement at once, reports no request in
//     flight to it, at most DrainDelay (all of it without a
//     Drainer), then gets SIGTERM and StopTimeout to exit. It is then kept,
//     stopped, as "<live name>.kept-<id12>" while one of the last
//     Deployment.Retain (DefaultRetain) release records before the current
//     one holds it, and removed after.
//   - A service whose live replicas run d's digest, reference, LabelSpec and
//     secret versions is unchanged: Deploy keeps its containers (they keep
//     the commit label and SLIPWAY_COMMIT they were started with) and starts
//     candidates for the others only. A retained container with d's values
//     is started again as the candidate of its replica (no pull, no
//     create).
//   - Each successful Deploy writes a release record, a volume labelled
//     slipway.release (the commit), slipway.seq and slipway.containers (the
//     live container ids); Current and Running report the record's commit
//     for the containers it holds, so an environment reads back as one
//     commit. Remove removes the records too.
//   - A daemon or registry that cannot be reached is events.Retryable; an image
//     the registry does not have is events.Permanent. A Deploy interrupted by
//     its context returns the context's error, which is neither.
//   - Deploying the release an environment already runs, with the same
//     replica counts, is a no-op.
//   - Deploy clears what a crashed Deploy left behind before it starts.
//
// Deploys of one environment are serialised within one Target; two processes
// must not deploy the same environment at once (the deploy workflow's
// per-environment lock guarantees it). Target never touches a container without the slipway.env
// label, and never removes images.
package docker
