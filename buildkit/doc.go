// Package buildkit implements build.Builder with a BuildKit daemon
// (buildkitd): it runs the Dockerfile frontend on a local build context,
// pushes the image to its registry and returns the manifest digest.
//
// Guarantees:
//   - The layer cache is imported from and exported to the request's
//     CacheRef in the registry (mode=max), so every builder and every commit
//     shares it. A failed cache export never fails a build.
//   - A registry is reached over plain HTTP only as registry.Access.PlainHTTP
//     says (a loopback address without a configured CA); buildkitd verifies
//     every other registry's certificate with the CAs of its buildkitd.toml.
//   - The credentials of WithRegistry reach buildkitd only through the
//     session's auth provider, when a registry asks (push, cache, base
//     images); they never appear in solve options, logs or errors. A
//     registry refusing them (401/403) is events.Permanent, a
//     *registry.RefusedError naming the host; a certificate buildkitd does
//     not trust is events.Permanent, a *registry.UntrustedError.
//   - The context and the Dockerfile's directory are opened through an
//     os.Root of the request's checkout: nothing BuildKit reads through them
//     leaves the checkout, whatever links it holds.
//   - RUN steps have no network (force-network-mode=none) unless the
//     request says Network.
//   - With AllowBaseImages, every other image is denied by a source policy
//     before buildkitd fetches anything (events.Permanent, naming it).
//   - What a StepError quotes (BuildKit's message, the last output lines)
//     is bounded and free of control characters.
//   - The progress stream is always drained: vertices and their output are
//     logged at debug level on the logger of the context (zerolog.Ctx).
//   - Errors carry their policy: an unreachable buildkitd or registry is
//     events.Retryable; a Dockerfile that does not parse, a RUN step that
//     fails, a file or base image that does not exist is events.Permanent,
//     with a *StepError naming the failing step and the end of its output.
//
// The package never reads the environment and never talks to a registry
// itself (a token service, for a registry using bearer tokens, is asked
// from this process by BuildKit's auth provider).
package buildkit
