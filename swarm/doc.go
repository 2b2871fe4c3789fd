// Package swarm runs Slipway environments on a Docker Swarm: Target
// implements target.Target over one manager's Docker API, reached through
// an SSH connection to the manager (sshhost.Conn).
//
// Contract:
//
//   - Each service of a release is a Swarm service of its own, named by
//     ServiceName from its repository, environment, service, commit and
//     digest, and labelled with all of them (LabelRole says whether it is
//     live or a candidate). What an environment runs is read back from the
//     swarm alone: its services' labels, their tasks, the nodes.
//   - Deploy is start-first by construction, behind Slipway's own gate: a
//     new commit starts as a candidate service beside the live one; when
//     every one of its tasks runs and answers the health path with a 2xx
//     at its published address, it becomes live by a label update (which
//     restarts no task) and the previous service is removed. A task that
//     fails, is rejected (an image no node can pull) or does not answer in
//     time fails the deploy for good with its reason and log lines; the
//     candidates are removed and the previous services were never touched,
//     so the previous commit keeps serving with the same tasks. Swarm's own
//     update (UpdateConfig start-first) is not used: it stops a previous
//     task as soon as the new one runs, before an HTTP check could tell,
//     and a Docker HEALTHCHECK needs a probe binary inside every image.
//   - A deploy interrupted after a promotion leaves two live services of
//     one name: the one promoted last is live, and the next deploy removes
//     the other; candidates an interrupted deploy left are removed by the
//     next one before it starts its own.
//   - A live service whose image (digest and repository), declared
//     service and secret versions are the new commit's, every task
//     running, is unchanged (target.Unchanged, the rule of every target):
//     Deploy keeps its tasks and, once the changed services passed their
//     gates, relabels it with the new commit (a label update, no task
//     restarts); its name, its tasks' SLIPWAY_COMMIT and their containers'
//     slipway.commit stay the commit they were started at, which
//     LabelStarted records. A failed gate leaves it as it was.
//   - The same commit and digest with another replica count scales the
//     live service in place; added tasks pass the gate, or the count goes
//     back.
//   - Replicas publish their port in host mode on a port the node picks,
//     and are reached at "<node address>:<port>" (the address the node
//     joined the swarm with) through the manager's SSH connection: the
//     ingress routing mesh (IPVS) is not needed, and no address is assumed
//     to be the deployer's loopback.
//   - A redeploy of what runs, all tasks running, is a no-op of one call
//     (ServiceList with task counts).
//   - Deployment tasks run as containers on the manager (docker.Target's
//     RunTask over the same connection).
//   - Remove removes every service of an environment, live or candidate.
package swarm
