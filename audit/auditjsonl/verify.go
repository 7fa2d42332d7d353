package auditjsonl

import (
	"errors"
	"fmt"
	"io"

	"github.com/bulwarkhq/bulwark/audit"
)

// ErrEmpty is returned by [Verify] for an input with no line at all:
// nothing was verified, and a deleted log must not pass as a good one.
var ErrEmpty = errors.New("auditjsonl: input holds no audit lines")

// Problems [Verify] reports in [audit.ChainError.Problem], besides those of
// the audit package.
const (
	// ProblemRange: an export's records or checkpoint lines are not the
	// ones its signed manifest states (cut at either end, a checkpoint
	// line removed or added), or a stream of an export has no manifest.
	ProblemRange = "export does not hold what its manifest states"
	// ProblemUnsigned: a key was given, but the export manifest is unsigned.
	ProblemUnsigned = "export manifest is not signed"
)

// VerifyOptions configures [Verify].
type VerifyOptions struct {
	// Verifier checks checkpoint and manifest signatures. Default none: a
	// file with signed checkpoints or manifests then fails with
	// [audit.ErrNoVerifier], and an unsigned one proves only that it is
	// internally consistent.
	Verifier audit.SignatureVerifier
	// Unattested accepts files that carry no [Manifest], such as the live
	// files of audit/auditfile: hashes, links, sequence numbers and signed
	// checkpoints are checked, but a file whose oldest records or
	// checkpoint lines were removed cannot be told from one that began
	// later, and reports have Attested false. Default false: every stream
	// must end with its manifest (prefer an export).
	Unattested bool
}

// Verify verifies a JSON Lines file offline: every record's hash, the
// links and sequence numbers within each stream, every checkpoint's
// signature, and each stream's [Manifest]. Lines of a stream come in the
// order [Export] writes them: checkpoints, records, then the manifest. The
// file must hold exactly what each manifest states, or Verify fails with
// an [*audit.ChainError] of [ProblemRange]: a stream without a manifest,
// records missing at either end, or a checkpoint line missing or added.
// With a Verifier given, an unsigned manifest fails with
// [ProblemUnsigned]. A checkpoint beyond the last record of its stream
// means the file, or the log it came from, was truncated. An input
// without a single line fails with [ErrEmpty]; a line over 4 MiB or not
// in canonical form fails as malformed ([audit.ErrMalformed]).
//
// It returns one report per stream, in order of first appearance, with
// Attested and Exported set. A manifest attests its own stream only:
// nothing in a file of several streams says which it should hold, so a
// caller that expects several checks the reports' streams against its list
// (a stream removed whole is otherwise unseen), and shows Exported, since
// an older export of a stream verifies too.
func Verify(r io.Reader, opts VerifyOptions) ([]audit.VerifyReport, error) {
	sv, attested := opts.Verifier, !opts.Unattested
	streams := map[string]*fileStream{}
	var order []string
	get := func(s string) (*fileStream, error) {
		st, ok := streams[s]
		if !ok {
			st = &fileStream{rep: audit.VerifyReport{Stream: s}, digest: newCheckpointDigest()}
			streams[s] = st
			order = append(order, s)
		}
		if st.done {
			return nil, fmt.Errorf("%w: line of stream %q after its manifest", audit.ErrMalformed, s)
		}
		return st, nil
	}
	lr := newLineReader(r)
	var buf []byte
	lines := 0
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		lines++
		switch {
		case line.Checkpoint != nil:
			cp := line.Checkpoint
			st, err := get(cp.Stream)
			if err != nil {
				return nil, err
			}
			if st.v != nil {
				return nil, fmt.Errorf("%w: checkpoint after records of stream %q", audit.ErrMalformed, cp.Stream)
			}
			if sv == nil {
				return nil, audit.ErrNoVerifier
			}
			if buf, err = AppendCheckpoint(buf[:0], cp); err != nil {
				return nil, err
			}
			st.digest.add(buf)
			st.cps = append(st.cps, *cp)
			if cp.PrunedSeq > 0 && (st.anchor == nil || cp.PrunedSeq > st.anchor.PrunedSeq) {
				st.anchor = cp
			}
		case line.Record != nil:
			rec := line.Record
			st, err := get(rec.Tenant)
			if err != nil {
				return nil, err
			}
			if st.v == nil {
				if err := st.start(rec, sv); err != nil {
					return nil, err
				}
			}
			if err := st.v.Next(rec); err != nil {
				return nil, err
			}
		default:
			m := line.Manifest
			st, err := get(m.Stream)
			if err != nil {
				return nil, err
			}
			if !attested {
				return nil, fmt.Errorf("%w: manifest in a file verified as unattested", audit.ErrMalformed)
			}
			if sv == nil && (m.KeyID != "" || len(m.Signature) > 0) {
				return nil, audit.ErrNoVerifier
			}
			if sv != nil {
				if err := checkManifestSignature(m, sv); err != nil {
					return nil, err
				}
			}
			if st.v == nil {
				if err := st.start(nil, sv); err != nil {
					return nil, err
				}
			}
			if err := st.checkManifest(m); err != nil {
				return nil, err
			}
			st.done = true
			st.rep.Exported = m.Time
		}
	}
	if lines == 0 {
		return nil, ErrEmpty
	}
	out := make([]audit.VerifyReport, 0, len(order))
	for _, s := range order {
		st := streams[s]
		if attested && !st.done {
			return nil, &audit.ChainError{Stream: s, Seq: 0, Problem: ProblemRange}
		}
		if st.v == nil {
			if err := st.start(nil, sv); err != nil {
				return nil, err
			}
		}
		walked, err := st.v.Finish()
		if err != nil {
			return nil, err
		}
		rep := st.rep
		rep.From, rep.To, rep.Records, rep.Checkpoints, rep.Signed, rep.Head =
			walked.From, walked.To, walked.Records, walked.Checkpoints, walked.Signed, walked.Head
		rep.Attested = st.done
		out = append(out, rep)
	}
	return out, nil
}

// fileStream is what Verify knows of one stream of a file.
type fileStream struct {
	rep       audit.VerifyReport // Stream, Anchored and Exported; the rest comes from v
	v         *audit.ChainVerifier
	cps       []audit.Checkpoint
	anchor    *audit.Checkpoint
	digest    *checkpointDigest
	firstPrev [32]byte
	done      bool // the manifest was read
}

// start begins the chain at rec, the stream's first record (nil: none).
func (st *fileStream) start(rec *audit.Record, sv audit.SignatureVerifier) error {
	s := audit.Head{Stream: st.rep.Stream}
	switch {
	case rec == nil:
		if st.anchor != nil {
			s.Seq, s.Hash = st.anchor.PrunedSeq, st.anchor.PrunedHash
		}
	case rec.Seq == 1:
		st.rep.Anchored = true
	case st.anchor != nil && rec.Seq == st.anchor.PrunedSeq+1:
		s.Seq, s.Hash = st.anchor.PrunedSeq, st.anchor.PrunedHash
		st.rep.Anchored = true
	default:
		// Starts mid-chain: take the first record's word for its
		// predecessor, anchored only if a checkpoint (or the signed
		// manifest) vouches for it.
		s.Seq, s.Hash = rec.Seq-1, rec.Prev
		for _, cp := range st.cps {
			if cp.Seq == s.Seq {
				st.rep.Anchored = true
			}
		}
	}
	if rec != nil {
		st.firstPrev = rec.Prev
	}
	var err error
	st.v, err = audit.NewChainVerifier(s, st.cps, sv)
	return err
}

// checkManifest compares what the file held for the stream with what its
// (signature-checked) manifest states.
func (st *fileStream) checkManifest(m *Manifest) error {
	bad := func(seq uint64) error { return &audit.ChainError{Stream: m.Stream, Seq: seq, Problem: ProblemRange} }
	walked, _ := st.v.Finish() // truncation is reported after the whole file was read
	head, n := walked.Head, uint64(walked.Records)
	switch {
	case n > 0 && walked.From != m.From:
		return bad(min(walked.From, m.From))
	case n != m.Records || (n > 0 && (head.Seq != m.To || head.Hash != m.Hash)):
		return bad(min(head.Seq, m.To) + 1)
	case n == 0 && m.To+1 != m.From:
		return bad(m.From)
	case st.digest.n != m.Checkpoints || st.digest.sum() != m.CheckpointsHash:
		return bad(0)
	case m.PrunedSeq > 0 && m.From <= m.PrunedSeq:
		return bad(m.From)
	}
	// The signed manifest vouches for what was pruned, so a range that
	// begins right after it is anchored even without the pruning
	// checkpoint's line.
	if m.From == 1 || (m.PrunedSeq > 0 && m.From == m.PrunedSeq+1 && (n == 0 || st.firstPrev == m.PrunedHash)) {
		st.rep.Anchored = true
	}
	return nil
}
