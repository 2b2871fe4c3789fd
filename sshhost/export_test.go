package sshhost

// SetBeforeBatch makes t call fn before each batch of a rollout, with the
// batch's index from 0.
func SetBeforeBatch(t *Target, fn func(batch int)) { t.beforeBatch = fn }
