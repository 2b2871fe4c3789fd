package events

// EnvID names one environment of one repository. Environments are scoped
// by repository: the staging of acme/shop and the staging of acme/blog are
// two environments, with records, locks, claims, subjects, containers and
// host names of their own.
type EnvID struct {
	Repo string // owner/name, as the host spells it
	Env  string
}

// Key is the environment's token in KV keys and subjects (EnvKey).
func (id EnvID) Key() string { return EnvKey(id.Repo, id.Env) }

// String names the environment for people: "staging of acme/shop".
func (id EnvID) String() string {
	if id.Repo == "" {
		return id.Env
	}
	return id.Env + " of " + id.Repo
}

// RepoToken is repo as one token of a key or subject: RepoKey(repo)
// (lower-cased, as hosts match names regardless of case), or "_" (which
// KeyPart never returns) when repo is empty, so that a subject never has an
// empty token.
func RepoToken(repo string) string {
	if repo == "" {
		return "_"
	}
	return RepoKey(repo)
}

// EnvKey names the environment env of repository repo in KV keys and
// subjects: "<repo>.<env>", both encoded by RepoToken and KeyPart. An
// environment belongs to one repository: two repositories' staging are two
// environments.
func EnvKey(repo, env string) string {
	return RepoToken(repo) + "." + KeyPart(env)
}

// EnvSubject is the subject of an event of prefix about the environment env
// of repo: "<prefix>.<repo>.<env>". Slipway before repository-scoped
// environments published "<prefix>.<env>"; LegacyEnvSubject names those.
func EnvSubject(prefix, repo, env string) string {
	return prefix + "." + EnvKey(repo, env)
}

// LegacyEnvSubject is the subject earlier versions published the events of
// env on, whatever their repository: "<prefix>.<env>". It has one token
// after prefix where EnvSubject has two, so the two never match each other.
func LegacyEnvSubject(prefix, env string) string {
	return prefix + "." + KeyPart(env)
}
