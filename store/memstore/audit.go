package memstore

import (
	"context"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/bulwarkhq/bulwark/audit"
)

var _ audit.Store = (*AuditStore)(nil)

// AuditStore is an in-memory [audit.Store]. One mutex serialises appends,
// so each stream is one chain. Records returned are copies.
type AuditStore struct {
	mu      sync.Mutex
	streams map[string]*auditStream
}

type auditStream struct {
	chain audit.Chain
	recs  []audit.Record // ascending Seq, contiguous
	cps   []audit.Checkpoint
}

// NewAuditStore returns an empty AuditStore.
func NewAuditStore() *AuditStore {
	return &AuditStore{streams: map[string]*auditStream{}}
}

func (s *AuditStore) stream(name string) *auditStream {
	st, ok := s.streams[name]
	if !ok {
		st = &auditStream{chain: audit.Chain{Head: audit.Head{Stream: name}}}
		s.streams[name] = st
	}
	return st
}

// Append implements [audit.RecordStore].
func (s *AuditStore) Append(ctx context.Context, events []audit.Event) ([]audit.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]audit.Record, 0, len(events))
	saved := map[*auditStream]audit.Head{}
	for _, ev := range events {
		st := s.stream(ev.Tenant)
		if _, ok := saved[st]; !ok {
			saved[st] = st.chain.Head
		}
		r, err := st.chain.Link(auditClone(ev))
		if err != nil {
			for st, h := range saved { // all or nothing
				st.chain.Head = h
			}
			return nil, err
		}
		out = append(out, r)
	}
	for i := range out {
		st := s.streams[out[i].Tenant]
		st.recs = append(st.recs, out[i])
	}
	return out, nil
}

func auditClone(ev audit.Event) audit.Event {
	if len(ev.Changes) > 0 {
		ev.Changes = slices.Clone(ev.Changes)
	}
	if len(ev.Details) > 0 {
		ev.Details = maps.Clone(ev.Details)
	}
	return ev
}

func auditCloneRecord(r audit.Record) audit.Record {
	r.Event = auditClone(r.Event)
	return r
}

// Head implements [audit.RecordStore].
func (s *AuditStore) Head(_ context.Context, stream string) (audit.Head, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[stream]; ok {
		return st.chain.Head, nil
	}
	return audit.Head{Stream: stream}, nil
}

// Records implements [audit.RecordStore].
func (s *AuditStore) Records(_ context.Context, stream string, from uint64, limit int) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[stream]
	if !ok || limit <= 0 {
		return nil, nil
	}
	i := sort.Search(len(st.recs), func(i int) bool { return st.recs[i].Seq >= from })
	var out []audit.Record
	for ; i < len(st.recs) && len(out) < limit; i++ {
		out = append(out, auditCloneRecord(st.recs[i]))
	}
	return out, nil
}

// Query implements [audit.RecordStore].
func (s *AuditStore) Query(_ context.Context, f audit.Filter) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*audit.Record
	for name, st := range s.streams {
		if !f.AllTenants && name != f.Tenant {
			continue
		}
		for i := range st.recs {
			r := &st.recs[i]
			if f.Match(r) && f.After.Before(r) {
				match = append(match, r)
			}
		}
	}
	slices.SortFunc(match, audit.NewerFirst)
	out := make([]audit.Record, 0, min(len(match), max(f.Limit, 0)))
	for _, r := range match[:min(len(match), max(f.Limit, 0))] {
		out = append(out, auditCloneRecord(*r))
	}
	return out, nil
}

// AddCheckpoint implements [audit.CheckpointStore].
func (s *AuditStore) AddCheckpoint(_ context.Context, cp audit.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stream(cp.Stream).addCheckpoint(cp)
	return nil
}

func (st *auditStream) addCheckpoint(cp audit.Checkpoint) {
	i, found := slices.BinarySearchFunc(st.cps, cp, auditCompareCheckpoints)
	if !found {
		cp.Signature = slices.Clone(cp.Signature)
		st.cps = slices.Insert(st.cps, i, cp)
	}
}

func auditCompareCheckpoints(a, b audit.Checkpoint) int {
	switch {
	case a.Seq != b.Seq:
		if a.Seq < b.Seq {
			return -1
		}
		return 1
	case a.PrunedSeq < b.PrunedSeq:
		return -1
	case a.PrunedSeq > b.PrunedSeq:
		return 1
	}
	return 0
}

// Checkpoints implements [audit.CheckpointStore].
func (s *AuditStore) Checkpoints(_ context.Context, stream string, from uint64, limit int) ([]audit.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[stream]
	if !ok {
		return nil, nil
	}
	var out []audit.Checkpoint
	for _, cp := range st.cps {
		if cp.Seq >= from && len(out) < limit {
			cp.Signature = slices.Clone(cp.Signature)
			out = append(out, cp)
		}
	}
	return out, nil
}

// Prune implements [audit.CheckpointStore].
func (s *AuditStore) Prune(_ context.Context, cp audit.Checkpoint) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(cp.Stream)
	i := sort.Search(len(st.recs), func(i int) bool { return st.recs[i].Seq > cp.PrunedSeq })
	st.recs = slices.Clone(st.recs[i:])
	st.addCheckpoint(cp)
	return int64(i), nil
}

// Streams implements [audit.CheckpointStore].
func (s *AuditStore) Streams(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.streams))
	for name, st := range s.streams {
		if st.chain.Head.Seq > 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}
