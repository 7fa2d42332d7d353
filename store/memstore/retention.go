package memstore

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/retention"
)

// retentionStore is the in-memory [retention.Store].
type retentionStore struct {
	mu       sync.Mutex
	subjects map[string]*retention.Record
	ids      []string // every subject id, sorted, for ListSubjects's pages
	erasures map[string]*retention.Erasure
	open     map[string]string // subject -> unfinished erasure id
	fence    int64             // the newest lock holder's token (AdvanceFence)
}

var _ retention.Store = (*retentionStore)(nil)

// NewRetentionStore returns an empty in-memory [retention.Store].
func NewRetentionStore() retention.Store {
	return &retentionStore{
		subjects: map[string]*retention.Record{},
		erasures: map[string]*retention.Erasure{},
		open:     map[string]string{},
	}
}

func retentionClone(r *retention.Record) retention.Record {
	c := *r
	c.Warned = slices.Clone(r.Warned)
	return c
}

// PutSubject implements [retention.SubjectStore].
func (s *retentionStore) PutSubject(_ context.Context, sub retention.Subject) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[sub.ID]
	if !ok {
		s.subjects[sub.ID] = &retention.Record{Subject: sub, Version: 1}
		// Hosts mostly add ids in order: then this appends.
		i, _ := slices.BinarySearch(s.ids, sub.ID)
		s.ids = slices.Insert(s.ids, i, sub.ID)
		return nil
	}
	if !r.Erased.IsZero() {
		return retention.ErrErased
	}
	if r.State != sub.State || !r.Since.Equal(sub.Since) {
		r.Warned, r.Suspended, r.Closed = nil, time.Time{}, time.Time{}
	}
	r.Subject = sub
	r.Version++
	return nil
}

// GetSubject implements [retention.SubjectStore].
func (s *retentionStore) GetSubject(_ context.Context, id string) (retention.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.subjects[id]
	if !ok {
		return retention.Record{}, retention.ErrNotFound
	}
	return retentionClone(r), nil
}

// ListSubjects implements [retention.SubjectStore].
func (s *retentionStore) ListSubjects(_ context.Context, buf []retention.Record, after string, limit int) ([]retention.Record, error) {
	if buf == nil {
		buf = make([]retention.Record, 0, max(min(limit, 1024), 0))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearch(s.ids, after)
	if found {
		i++
	}
	out := buf[:0]
	for ; i < len(s.ids) && len(out) < limit; i++ {
		r := s.subjects[s.ids[i]]
		if !r.Erased.IsZero() {
			continue
		}
		if len(out) == cap(out) {
			out = append(out, retentionClone(r))
			continue
		}
		out = out[:len(out)+1]
		dst := &out[len(out)-1]
		warned := dst.Warned[:0]
		*dst = *r
		dst.Warned = nil
		if len(r.Warned) > 0 {
			dst.Warned = append(warned, r.Warned...)
		}
	}
	return out, nil
}

func (s *retentionStore) live(id string) (*retention.Record, error) {
	r, ok := s.subjects[id]
	if !ok {
		return nil, retention.ErrNotFound
	}
	if !r.Erased.IsZero() {
		return nil, retention.ErrErased
	}
	return r, nil
}

// MarkAction implements [retention.MarkStore].
func (s *retentionStore) MarkAction(_ context.Context, id string, version int64, m retention.Mark) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stale(m.Fence); err != nil {
		return err
	}
	r, err := s.live(id)
	if err != nil {
		return err
	}
	if r.Version != version {
		return retention.ErrChanged
	}
	switch m.Action {
	case retention.Warn:
		if !slices.Contains(r.Warned, m.Key) {
			r.Warned = append(r.Warned, m.Key)
		}
	case retention.Suspend:
		r.Suspended = m.At
	case retention.Close:
		r.Closed = m.At
	}
	return nil
}

// SetHold implements [retention.MarkStore].
func (s *retentionStore) SetHold(_ context.Context, id string, h retention.Hold) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.live(id)
	if err != nil {
		return err
	}
	if h.Reason == "" {
		h = retention.Hold{}
	}
	r.Hold = h
	return nil
}

func retentionCloneErasure(e *retention.Erasure) retention.Erasure {
	c := *e
	c.Done = slices.Clone(e.Done)
	return c
}

// BeginErasure implements [retention.ErasureStore].
func (s *retentionStore) BeginErasure(_ context.Context, e retention.Erasure) (retention.Erasure, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stale(e.Fence); err != nil {
		return retention.Erasure{}, err
	}
	if id, ok := s.open[e.Subject]; ok {
		cur := s.erasures[id]
		if e.Fence < cur.Fence {
			return retention.Erasure{}, retention.ErrFenced
		}
		cur.Fence = e.Fence
		return retentionCloneErasure(cur), nil
	}
	r, err := s.live(e.Subject)
	if err != nil {
		return retention.Erasure{}, err
	}
	if r.Hold.Reason != "" {
		return retention.Erasure{}, retention.ErrOnHold
	}
	if e.SubjectVersion != 0 && e.SubjectVersion != r.Version {
		return retention.Erasure{}, retention.ErrChanged
	}
	n := e
	n.SubjectVersion, n.Finished, n.Done = 0, time.Time{}, nil
	s.erasures[n.ID] = &n
	s.open[n.Subject] = n.ID
	return retentionCloneErasure(&n), nil
}

// AdvanceFence implements [retention.FenceStore].
func (s *retentionStore) AdvanceFence(_ context.Context, fence int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fence < s.fence {
		return retention.ErrFenced
	}
	s.fence = fence
	return nil
}

// stale refuses a write of a lock holder older than the newest one; a
// fence of 0 is a caller without a lock.
func (s *retentionStore) stale(fence int64) error {
	if fence != 0 && fence < s.fence {
		return retention.ErrFenced
	}
	return nil
}

func (s *retentionStore) unfinished(id string, fence int64) (*retention.Erasure, error) {
	if err := s.stale(fence); err != nil {
		return nil, err
	}
	e, ok := s.erasures[id]
	if !ok || !e.Finished.IsZero() {
		return nil, retention.ErrNotFound
	}
	if fence < e.Fence {
		return nil, retention.ErrFenced
	}
	return e, nil
}

// StepErasure implements [retention.ErasureStore].
func (s *retentionStore) StepErasure(_ context.Context, id string, fence int64, step string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.unfinished(id, fence)
	if err != nil {
		return err
	}
	if !slices.Contains(e.Done, step) {
		e.Done = append(e.Done, step)
	}
	return nil
}

// FinishErasure implements [retention.ErasureStore].
func (s *retentionStore) FinishErasure(_ context.Context, id string, fence int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.unfinished(id, fence)
	if err != nil {
		return err
	}
	e.Finished = at
	delete(s.open, e.Subject)
	s.subjects[e.Subject] = &retention.Record{Subject: retention.Subject{ID: e.Subject}, Erased: at, Receipt: e.ID}
	return nil
}

// PendingErasures implements [retention.ErasureStore].
func (s *retentionStore) PendingErasures(_ context.Context, limit int) ([]retention.Erasure, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]retention.Erasure, 0, len(s.open))
	for _, id := range s.open {
		out = append(out, retentionCloneErasure(s.erasures[id]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}
