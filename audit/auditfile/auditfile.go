// Package auditfile is a crash-safe [audit.Store] in plain JSON Lines
// files, for single-node apps without a database and for logs that must be
// readable with standard tools.
//
// # Layout
//
// A store is a directory holding records.jsonl (one record per line, in
// the format of audit/auditjsonl) and checkpoints.jsonl. Both can be
// checked offline: cat checkpoints.jsonl records.jsonl | auditverify
// -unattested -hmac-key-file ... - (see [auditjsonl.VerifyOptions]
// Unattested). They carry no signed manifest, so a copy missing its oldest
// records or a checkpoint line cannot be told from a shorter log; hand
// auditors an [auditjsonl.Export] of the store instead, which states its
// range under the signature.
//
// # Durability
//
// Append writes a whole batch with one write and fsyncs before returning, so
// an acknowledged event survives a crash or power loss. A crash mid-write
// can leave a torn last line (no newline at the end); [Open] detects it,
// cuts the file back to the last complete line (that batch was never
// acknowledged) and reports the bytes dropped in [Store.Recovered]. A
// complete line that does not parse is not a crash artefact but damage, and
// Open fails with [ErrCorrupt]. After a failed write or fsync the store
// refuses further writes ([ErrBroken]): the file's state is unknown until it
// is reopened. Pruning rewrites records.jsonl to a temporary file and
// renames it over the old one, after the pruning checkpoint is durable.
//
// # Limits
//
// The whole log is indexed in memory, so this store suits logs of up to a
// few million records. One process at a time: on Unix, Open takes an
// exclusive lock (flock) on the directory's lock file; on other systems it
// takes none, and two processes opening one directory would fork its
// chains, so the host must make sure only one does.
package auditfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/auditjsonl"
)

var _ audit.Store = (*Store)(nil)

// Errors returned by this package.
var (
	// ErrCorrupt is returned by Open when a complete line of either file
	// does not parse.
	ErrCorrupt = errors.New("auditfile: corrupt line")
	// ErrBroken is returned by every write after a write or fsync failed.
	ErrBroken = errors.New("auditfile: store unusable after a failed write; reopen it")
	// ErrLocked is returned by Open when another process holds the store.
	ErrLocked = errors.New("auditfile: store is open in another process")
)

const (
	recordsFile     = "records.jsonl"
	checkpointsFile = "checkpoints.jsonl"
	lockName        = "LOCK"
)

// Store is a JSON Lines audit store. Safe for concurrent use.
type Store struct {
	root      *os.Root
	mu        sync.Mutex
	recs      *os.File
	cps       *os.File
	lock      *os.File
	streams   map[string]*stream
	broken    bool
	recovered int64
	buf       []byte
}

type stream struct {
	chain audit.Chain
	recs  []audit.Record
	cps   []audit.Checkpoint
}

// Open opens or creates the store in dir (created with mode 0700 if
// missing), recovering a torn last line.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{root: root, streams: map[string]*stream{}}
	if s.lock, err = root.OpenFile(lockName, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		_ = root.Close()
		return nil, err
	}
	if err := lockFile(s.lock); err != nil {
		_ = s.lock.Close()
		_ = root.Close()
		return nil, fmt.Errorf("%w: %w", ErrLocked, err)
	}
	if s.cps, err = s.openLog(checkpointsFile); err == nil {
		s.recs, err = s.openLog(recordsFile)
	}
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	for _, st := range s.streams {
		if n := len(st.recs); n > 0 {
			last := st.recs[n-1]
			st.chain.Head.Seq, st.chain.Head.Hash = last.Seq, last.Hash
		}
	}
	return s, nil
}

// Recovered returns how many bytes of a torn last line Open cut off.
func (s *Store) Recovered() int64 { return s.recovered }

// Close closes the files and releases the lock.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, f := range []*os.File{s.recs, s.cps, s.lock} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	if s.root != nil {
		errs = append(errs, s.root.Close())
	}
	s.recs, s.cps, s.lock, s.root = nil, nil, nil, nil
	return errors.Join(errs...)
}

// openLog opens name for appending, loads its lines and cuts a torn tail.
func (s *Store) openLog(name string) (*os.File, error) {
	f, err := s.root.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	good := bytes.LastIndexByte(data, '\n') + 1
	if torn := int64(len(data) - good); torn > 0 {
		if err := f.Truncate(int64(good)); err != nil {
			_ = f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return nil, err
		}
		s.recovered += torn
	}
	if err := s.load(name, data[:good]); err != nil {
		_ = f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func (s *Store) load(name string, data []byte) error {
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		l, err := auditjsonl.ParseLine(line)
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %w", ErrCorrupt, name, n, err)
		}
		switch {
		case l.Record != nil && name == recordsFile:
			st := s.stream(l.Record.Tenant)
			st.recs = append(st.recs, *l.Record)
		case l.Checkpoint != nil && name == checkpointsFile:
			s.stream(l.Checkpoint.Stream).addCheckpoint(*l.Checkpoint)
		default:
			return fmt.Errorf("%w: %s line %d: a line of another kind", ErrCorrupt, name, n)
		}
	}
	if name == checkpointsFile {
		// A stream pruned to nothing keeps its head in the pruning checkpoint.
		for _, st := range s.streams {
			for _, cp := range st.cps {
				if cp.PrunedSeq > st.chain.Head.Seq {
					st.chain.Head.Seq, st.chain.Head.Hash = cp.PrunedSeq, cp.PrunedHash
				}
			}
		}
	}
	return nil
}

func (s *Store) stream(name string) *stream {
	st, ok := s.streams[name]
	if !ok {
		st = &stream{chain: audit.Chain{Head: audit.Head{Stream: name}}}
		s.streams[name] = st
	}
	return st
}

func (st *stream) addCheckpoint(cp audit.Checkpoint) bool {
	i, found := slices.BinarySearchFunc(st.cps, cp, func(a, b audit.Checkpoint) int {
		if a.Seq != b.Seq {
			return cmpU(a.Seq, b.Seq)
		}
		return cmpU(a.PrunedSeq, b.PrunedSeq)
	})
	if !found {
		st.cps = slices.Insert(st.cps, i, cp)
	}
	return !found
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeDurable appends b to f and fsyncs. On failure it tries to cut the
// file back and marks the store broken either way.
func (s *Store) writeDurable(f *os.File, b []byte) error {
	if s.broken || f == nil {
		return ErrBroken
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil {
		if _, err = f.Write(b); err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		s.broken = true
		_ = f.Truncate(size)
		return fmt.Errorf("auditfile: write: %w", err)
	}
	return nil
}

// Append implements [audit.RecordStore].
func (s *Store) Append(_ context.Context, events []audit.Entry) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]audit.Record, 0, len(events))
	heads := map[*stream]audit.Head{}
	rollback := func() {
		for st, h := range heads {
			st.chain.Head = h
		}
	}
	s.buf = s.buf[:0]
	for _, ev := range events {
		st := s.stream(ev.Tenant)
		if _, ok := heads[st]; !ok {
			heads[st] = st.chain.Head
		}
		r, err := st.chain.Link(ev)
		if err == nil {
			s.buf, err = auditjsonl.AppendRecord(s.buf, &r)
		}
		if err != nil {
			rollback()
			return nil, err
		}
		out = append(out, r)
	}
	if err := s.writeDurable(s.recs, s.buf); err != nil {
		rollback()
		return nil, err
	}
	for _, r := range out {
		st := s.streams[r.Tenant]
		st.recs = append(st.recs, r)
	}
	return out, nil
}

// Head implements [audit.RecordStore].
func (s *Store) Head(_ context.Context, name string) (audit.Head, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[name]; ok {
		return st.chain.Head, nil
	}
	return audit.Head{Stream: name}, nil
}

// Records implements [audit.RecordStore].
func (s *Store) Records(_ context.Context, name string, from uint64, limit int) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[name]
	if !ok || limit <= 0 {
		return nil, nil
	}
	i := sort.Search(len(st.recs), func(i int) bool { return st.recs[i].Seq >= from })
	return slices.Clone(st.recs[i:min(len(st.recs), i+limit)]), nil
}

// Query implements [audit.RecordStore].
func (s *Store) Query(_ context.Context, f audit.Filter) ([]audit.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []audit.Record
	for name, st := range s.streams {
		if f.AllTenants || name == f.Tenant {
			for i := range st.recs {
				if r := &st.recs[i]; f.Match(r) {
					match = append(match, *r)
				}
			}
		}
	}
	slices.SortFunc(match, func(a, b audit.Record) int { return audit.NewerFirst(&a, &b) })
	return match[:min(len(match), max(f.Limit, 0))], nil
}

// AddCheckpoint implements [audit.CheckpointStore].
func (s *Store) AddCheckpoint(_ context.Context, cp audit.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCheckpoint(cp)
}

func (s *Store) addCheckpoint(cp audit.Checkpoint) error {
	st := s.stream(cp.Stream)
	for _, c := range st.cps {
		if c.Seq == cp.Seq && c.PrunedSeq == cp.PrunedSeq {
			return nil
		}
	}
	b, err := auditjsonl.AppendCheckpoint(nil, &cp)
	if err != nil {
		return err
	}
	if err := s.writeDurable(s.cps, b); err != nil {
		return err
	}
	st.addCheckpoint(cp)
	return nil
}

// Checkpoints implements [audit.CheckpointStore].
func (s *Store) Checkpoints(_ context.Context, name string, from uint64, limit int) ([]audit.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[name]
	if !ok {
		return nil, nil
	}
	var out []audit.Checkpoint
	for _, cp := range st.cps {
		if cp.Seq >= from && len(out) < limit {
			out = append(out, cp)
		}
	}
	return out, nil
}

// Prune implements [audit.CheckpointStore]: the checkpoint is made durable
// first, then records.jsonl is rewritten without the pruned records and
// atomically renamed into place.
func (s *Store) Prune(_ context.Context, cp audit.Checkpoint) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addCheckpoint(cp); err != nil {
		return 0, err
	}
	st := s.stream(cp.Stream)
	cut := sort.Search(len(st.recs), func(i int) bool { return st.recs[i].Seq > cp.PrunedSeq })
	if cut == 0 {
		return 0, nil
	}
	var b []byte
	var err error
	for name, other := range s.streams {
		keep := other.recs
		if name == cp.Stream {
			keep = other.recs[cut:]
		}
		for i := range keep {
			if b, err = auditjsonl.AppendRecord(b, &keep[i]); err != nil {
				return 0, err
			}
		}
	}
	if err := s.replaceRecords(b); err != nil {
		return 0, err
	}
	st.recs = slices.Clone(st.recs[cut:])
	return int64(cut), nil
}

func (s *Store) replaceRecords(b []byte) error {
	if s.broken {
		return ErrBroken
	}
	tmp := recordsFile + ".tmp"
	f, err := s.root.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, recordsFile)
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return fmt.Errorf("auditfile: prune: %w", err)
	}
	if d, err := s.root.Open("."); err == nil {
		_ = d.Sync() // make the rename durable
		_ = d.Close()
	}
	nf, err := s.root.OpenFile(recordsFile, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		s.broken = true
		return fmt.Errorf("auditfile: prune: reopen: %w", err)
	}
	_ = s.recs.Close()
	s.recs = nf
	return nil
}

// Streams implements [audit.CheckpointStore].
func (s *Store) Streams(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, st := range s.streams {
		if st.chain.Head.Seq > 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}
