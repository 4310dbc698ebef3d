package redisbroker

import "sync"

// seen remembers the highest seq a node has seen in the current epoch.
// Redis restarted from an older snapshot (RDB, or an AOF cut short) comes
// back with a counter below it: the seqs above the counter would be given
// again to other messages, so an id a client holds would name two events.
// The scripts then start a new epoch instead, and every id of the old one
// gets sse:reset on resume.
type seen struct {
	mu    sync.Mutex
	epoch string
	seq   uint64
}

func (s *seen) get() (string, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epoch, s.seq
}

func (s *seen) saw(epoch string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch != s.epoch {
		s.epoch, s.seq = epoch, seq
	} else if seq > s.seq {
		s.seq = seq
	}
}

// rolledBack logs when the log's epoch is no longer the one this node
// knew.
func (b *Broker) rolledBack(known, epoch string) {
	if known != "" && epoch != known {
		b.log.Error("the log's epoch changed: Redis lost or rolled back the log; ids of the old epoch get sse:reset", "old_epoch", known, "epoch", epoch)
	}
}
