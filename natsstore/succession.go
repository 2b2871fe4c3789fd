package natsstore

// Succeeding returns claims held in the name of a worker of a stable
// identity (the `slipway up` holding its data directory's lock, a worker
// started with -worker-id) in its start boot. A lease recorded by the same
// identity in another boot is its dead predecessor's: a worker with one
// identity runs once at a time, so the predecessor is gone, and the step
// is taken over at once instead of when its lease expires. A lease of this
// boot (another delivery this process is working on) is held off like any
// other worker's. An empty identity is no identity: every lease then waits
// for its expiry.
func (c *Claims) Succeeding(identity, boot string) *Claims {
	cp := *c
	cp.identity, cp.boot = identity, boot
	return &cp
}

// succeeds reports whether cur is the lease of this worker's predecessor.
func (c *Claims) succeeds(cur claimRecord) bool {
	return c.identity != "" && c.boot != "" && cur.Identity == c.identity && cur.Boot != "" && cur.Boot != c.boot
}

// Succeeding returns the locks taken in the name of a worker of a stable
// identity in its start boot: a lock its predecessor (same identity,
// another boot) held is taken over at once (see Claims.Succeeding).
func (l *EnvLocks) Succeeding(identity, boot string) *EnvLocks {
	cp := *l
	cp.identity, cp.boot = identity, boot
	return &cp
}
