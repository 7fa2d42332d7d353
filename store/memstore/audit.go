package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/bulwarkhq/bulwark/audit"
)

var _ audit.Store = (*auditStore)(nil)

// auditStore is an in-memory [audit.Store]. One mutex serialises appends,
// so each stream is one chain. Records are kept in their canonical binary
// encoding (the bytes that were hashed) in append-only arenas, which keeps
// appends cheap and the garbage collector out of the way; reads decode
// them, so what a caller gets back is always a fresh copy.
type auditStore struct {
	mu      sync.Mutex
	streams map[string]*auditStream
	scratch []byte
	spans   []auditSpan
}

const auditBlockSize = 1 << 20

type auditStream struct {
	chain  audit.Chain
	blocks [][]byte    // arena blocks, filled in order
	index  []auditSlot // one per record, ascending Seq from first
	first  uint64      // Seq of index[0]
	cps    []audit.Checkpoint
}

type auditSlot struct {
	block, off, n uint32
	hash          [32]byte
}

type auditSpan struct {
	st     *auditStream
	off, n int
}

// NewAuditStore returns an empty in-memory [audit.Store].
func NewAuditStore() audit.Store {
	return &auditStore{streams: map[string]*auditStream{}}
}

func (s *auditStore) stream(name string) *auditStream {
	st, ok := s.streams[name]
	if !ok {
		st = &auditStream{chain: audit.Chain{Head: audit.Head{Stream: name}}, first: 1}
		s.streams[name] = st
	}
	return st
}

// Append implements [audit.RecordStore].
func (s *auditStore) Append(ctx context.Context, events []audit.Entry) ([]audit.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]audit.Record, 0, len(events))
	s.scratch, s.spans = s.scratch[:0], s.spans[:0]
	for _, ev := range events {
		st := s.stream(ev.Tenant)
		r, err := st.chain.Link(ev)
		if err != nil {
			s.rollback(out)
			return nil, err
		}
		off := len(s.scratch)
		s.scratch = append(s.scratch, st.chain.Encoded()...)
		s.spans = append(s.spans, auditSpan{st: st, off: off, n: len(s.scratch) - off})
		out = append(out, r)
	}
	for i, sp := range s.spans {
		sp.st.put(s.scratch[sp.off:sp.off+sp.n], out[i].Hash)
	}
	return out, nil
}

// rollback moves each touched stream's head back before the first record
// of this batch: nothing was stored yet.
func (s *auditStore) rollback(linked []audit.Record) {
	for i := len(linked) - 1; i >= 0; i-- {
		r := linked[i]
		s.streams[r.Tenant].chain.Head = audit.Head{Stream: r.Tenant, Seq: r.Seq - 1, Hash: r.Prev}
	}
}

func (st *auditStream) put(enc []byte, hash [32]byte) {
	last := len(st.blocks) - 1
	if last < 0 || len(st.blocks[last])+len(enc) > cap(st.blocks[last]) {
		st.blocks = append(st.blocks, make([]byte, 0, max(auditBlockSize, len(enc))))
		last++
	}
	b := st.blocks[last]
	st.index = append(st.index, auditSlot{block: uint32(last), off: uint32(len(b)), n: uint32(len(enc)), hash: hash})
	st.blocks[last] = append(b, enc...)
}

func (st *auditStream) record(i int) (audit.Record, error) {
	sl := st.index[i]
	var r audit.Record
	if err := r.UnmarshalBinary(st.blocks[sl.block][sl.off : sl.off+sl.n]); err != nil {
		return r, fmt.Errorf("memstore: audit record: %w", err)
	}
	r.Hash = sl.hash
	return r, nil
}

// Head implements [audit.RecordStore].
func (s *auditStore) Head(_ context.Context, stream string) (audit.Head, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[stream]; ok {
		return st.chain.Head, nil
	}
	return audit.Head{Stream: stream}, nil
}

// Records implements [audit.RecordStore].
func (s *auditStore) Records(_ context.Context, stream string, from uint64, limit int) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[stream]
	if !ok || limit <= 0 {
		return nil, nil
	}
	i := 0
	if from > st.first {
		i = int(min(from-st.first, uint64(len(st.index))))
	}
	var out []audit.Record
	for ; i < len(st.index) && len(out) < limit; i++ {
		r, err := st.record(i)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Query implements [audit.RecordStore]. It decodes and filters every
// record of the streams searched: fine for tests and small apps.
func (s *auditStore) Query(_ context.Context, f audit.Filter) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []audit.Record
	for name, st := range s.streams {
		if !f.AllTenants && name != f.Tenant {
			continue
		}
		for i := range st.index {
			r, err := st.record(i)
			if err != nil {
				return nil, err
			}
			if f.Match(&r) {
				match = append(match, r)
			}
		}
	}
	slices.SortFunc(match, func(a, b audit.Record) int { return audit.NewerFirst(&a, &b) })
	return match[:min(len(match), max(f.Limit, 0))], nil
}

// AddCheckpoint implements [audit.CheckpointStore].
func (s *auditStore) AddCheckpoint(_ context.Context, cp audit.Checkpoint) error {
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
func (s *auditStore) Checkpoints(_ context.Context, stream string, from uint64, limit int) ([]audit.Checkpoint, error) {
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

// Prune implements [audit.CheckpointStore]. The arena is rebuilt from the
// records that remain, so pruned records free their memory.
func (s *auditStore) Prune(_ context.Context, cp audit.Checkpoint) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(cp.Stream)
	cut := 0
	if cp.PrunedSeq >= st.first {
		cut = int(min(cp.PrunedSeq-st.first+1, uint64(len(st.index))))
	}
	old := *st
	st.blocks, st.index = nil, make([]auditSlot, 0, len(old.index)-cut)
	for _, sl := range old.index[cut:] {
		st.put(old.blocks[sl.block][sl.off:sl.off+sl.n], sl.hash)
	}
	st.first += uint64(cut)
	st.addCheckpoint(cp)
	return int64(cut), nil
}

// Streams implements [audit.CheckpointStore].
func (s *auditStore) Streams(context.Context) ([]string, error) {
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
