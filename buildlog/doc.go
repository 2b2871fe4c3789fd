// Package buildlog records the progress of builds in the JetStream stream
// SLIPWAY_LOGS, one subject per build (natsjs.LogSubject: repository,
// commit, service), and reads it back, whole or followed live.
//
// It guarantees:
//   - a log is bounded: past natsjs.LogMaxLines lines or natsjs.LogMaxBytes
//     bytes of output the writer records one truncation record and drops
//     the rest of the output (the steps' statuses and the end still come);
//     the stream keeps a log natsjs.LogMaxAge;
//   - every attempt at a build starts with a begin record and ends with an
//     end record holding the result, so a reader shows the last attempt
//     and a follower knows when the build is over;
//   - a writer never fails a build: a log that cannot be written is
//     logged and dropped.
//
// It never records anything but what BuildKit reports of the build's
// steps: builds see no secret, so none can reach a log.
package buildlog
