package natsstream

import (
	"sync"
	"sync/atomic"
	"time"
)

// progress tracks how complete the index is: it holds every record stored
// in the stream before completeAt.
type progress struct {
	mu       sync.Mutex
	consumer string // the consumer whose message was applied last
	seq      uint64 // that message's consumer sequence
	want     mark   // a position to reach, or the zero mark
	complete atomic.Int64
}

// mark is a consumer position that, once reached, means every record
// stored before at is in the index.
type mark struct {
	consumer string
	seq      uint64
	at       time.Time
}

// completeAt returns the time, in Unix nanoseconds, before which every
// record is in the index.
func (p *progress) completeAt() int64 { return p.complete.Load() }

// applied notes the message at seq of consumer, applied at now, after which
// the consumer had pending messages left.
func (p *progress) applied(consumer string, seq, pending uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.consumer, p.seq = consumer, seq
	if pending == 0 {
		p.advance(now)
	}
	if p.want.consumer == consumer && seq >= p.want.seq {
		p.advance(p.want.at)
		p.want = mark{}
	}
}

// expect notes a position the consumer has to reach. An earlier mark of the
// same consumer not reached yet is kept: it is reached first.
func (p *progress) expect(m mark) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m.seq == 0 || (m.consumer == p.consumer && p.seq >= m.seq) {
		p.advance(m.at)
		return
	}
	if p.want.consumer != m.consumer {
		p.want = m
	}
}

// advance moves completeAt to t if that is later. p.mu is held.
func (p *progress) advance(t time.Time) {
	if n := t.UnixNano(); n > p.complete.Load() {
		p.complete.Store(n)
	}
}
