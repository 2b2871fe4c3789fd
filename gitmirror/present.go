package gitmirror

import "sync"

// presentCache is how many commits a Mirror remembers it holds; past it
// the memory is cleared and filled again by the next reads.
const presentCache = 4096

// present remembers the commits found in each mirror, by "<gitDir>\x00<sha>":
// a mirror never loses a commit (nothing is pruned, maintain.go), so one
// found there is not asked of git again. Every read of a commit (a build
// key's objects, a Dockerfile, slipway.yaml) asked before; a commit of 50
// services cost 100 git processes more than it does now.
type present struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// has reports whether sha was found in gitDir before.
func (p *present) has(gitDir, sha string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.seen[gitDir+"\x00"+sha]
	return ok
}

// add remembers that gitDir holds sha.
func (p *present) add(gitDir, sha string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil || len(p.seen) >= presentCache {
		p.seen = map[string]struct{}{}
	}
	p.seen[gitDir+"\x00"+sha] = struct{}{}
}
