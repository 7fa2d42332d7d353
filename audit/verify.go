package audit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrTampered is matched (with errors.Is) by every [*ChainError]: the log
// is not what was written.
var ErrTampered = errors.New("audit: log tampered")

// ErrNoVerifier is returned by [Log.Verify] when the stream has signed
// checkpoints but the Log has no key to check them with. Verification
// fails closed rather than skip them.
var ErrNoVerifier = errors.New("audit: checkpoints present but no verifier configured")

// Problems reported in [ChainError.Problem]: what a verifier found wrong.
const (
	ProblemHash       = "record hash does not match its contents"  // a field was changed
	ProblemLink       = "record does not link to the previous one" // a record was replaced or reordered
	ProblemSequence   = "unexpected sequence number"               // a record was deleted, inserted or reordered
	ProblemCheckpoint = "record hash differs from signed checkpoint"
	ProblemSignature  = "checkpoint signature invalid"
	ProblemTruncated  = "chain ends before a signed checkpoint or the stored head"
	// ProblemColumn: a value a store keeps beside the record for
	// filtering (an SQL column) differs from the record itself, so
	// queries on it would miss or misattribute the record.
	ProblemColumn = "stored column differs from the record"

	problemStream = "record of another stream" // a store returned a record of another stream
)

// ChainError reports the first broken record (or checkpoint) found.
// errors.Is(err, ErrTampered) is true for every ChainError.
type ChainError struct {
	Stream  string
	Seq     uint64 // the first record (or checkpoint position) that is wrong
	Problem string // one of the Problem constants (audit/auditjsonl adds its own)
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: stream %q record %d: %s", e.Stream, e.Seq, e.Problem)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *ChainError) Is(target error) bool { return target == ErrTampered }

// ChainVerifier checks records of one stream, in order, one at a time:
// the streaming core of [Log.Verify], exported for verifiers of records
// kept elsewhere (audit/auditjsonl verifies export files with it). Not
// safe for concurrent use.
type ChainVerifier struct {
	stream  string
	from    uint64
	next    uint64
	prev    [32]byte
	cps     map[uint64][32]byte
	ncps    int
	maxCP   uint64
	signed  uint64
	records int
	buf     []byte
}

// NewChainVerifier returns a verifier expecting the record after start:
// Seq start.Seq+1 with Prev start.Hash. Start from the zero Head (with the
// stream set) to verify a stream from its first record. cps are the
// stream's checkpoints: each signature is checked with sv first (a nil sv
// with checkpoints fails with [ErrNoVerifier]; a bad signature, or a
// checkpoint of another stream, with a [*ChainError] of
// [ProblemSignature]). A checkpoint before start is ignored, one at start
// must match start.Hash, and one after it must match the record of the
// same Seq: [ChainVerifier.Finish] reports truncation if no such record
// was seen.
func NewChainVerifier(start Head, cps []Checkpoint, sv SignatureVerifier) (*ChainVerifier, error) {
	v := newChainVerifier(start)
	for i := range cps {
		if err := checkCheckpoint(&cps[i], start.Stream, sv); err != nil {
			return nil, err
		}
		if err := v.addCheckpoint(&cps[i]); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func newChainVerifier(start Head) *ChainVerifier {
	return &ChainVerifier{stream: start.Stream, from: start.Seq + 1, next: start.Seq + 1, prev: start.Hash, cps: map[uint64][32]byte{}}
}

// checkCheckpoint verifies cp's signature with sv.
func checkCheckpoint(cp *Checkpoint, stream string, sv SignatureVerifier) error {
	if sv == nil {
		return ErrNoVerifier
	}
	if cp.Stream != stream || !sv.VerifySignature(cp.KeyID, cp.signedBytes(), cp.Signature) {
		return &ChainError{Stream: stream, Seq: cp.Seq, Problem: ProblemSignature}
	}
	return nil
}

// addCheckpoint registers a checkpoint whose signature was checked.
func (v *ChainVerifier) addCheckpoint(cp *Checkpoint) error {
	v.ncps++
	if cp.Seq == 0 || cp.Seq < v.next-1 {
		return nil
	}
	if cp.Seq == v.next-1 {
		if cp.Hash != v.prev {
			return v.fail(cp.Seq, ProblemCheckpoint)
		}
		v.signed = max(v.signed, cp.Seq)
		return nil
	}
	if h, ok := v.cps[cp.Seq]; ok && h != cp.Hash {
		return v.fail(cp.Seq, ProblemCheckpoint)
	}
	v.cps[cp.Seq] = cp.Hash
	v.maxCP = max(v.maxCP, cp.Seq)
	return nil
}

func (v *ChainVerifier) fail(seq uint64, p string) error {
	return &ChainError{Stream: v.stream, Seq: seq, Problem: p}
}

// Next checks r against its own hash, the previous record and any
// checkpoint at its position.
func (v *ChainVerifier) Next(r *Record) error {
	switch {
	case r.Tenant != v.stream:
		return v.fail(r.Seq, problemStream)
	case r.Seq != v.next:
		return v.fail(v.next, ProblemSequence)
	}
	var err error
	v.buf, err = r.appendBinary(v.buf[:0], false)
	if err != nil {
		return v.fail(r.Seq, ProblemHash)
	}
	sum := sha256.Sum256(v.buf)
	if !bytes.Equal(sum[:], r.Hash[:]) {
		return v.fail(r.Seq, ProblemHash)
	}
	if r.Prev != v.prev {
		return v.fail(r.Seq, ProblemLink)
	}
	if r.Seq <= v.maxCP {
		if want, ok := v.cps[r.Seq]; ok {
			if want != r.Hash {
				return v.fail(r.Seq, ProblemCheckpoint)
			}
			v.signed = r.Seq
		}
	}
	v.next++
	v.prev = r.Hash
	v.records++
	return nil
}

func (v *ChainVerifier) head() Head { return Head{Stream: v.stream, Seq: v.next - 1, Hash: v.prev} }

// Finish reports what the walk covered: Stream, From, To, Records,
// Checkpoints, Signed and Head of a [VerifyReport] (the caller judges
// Anchored). Its error reports truncation: a checkpoint beyond the last
// record seen means records at the end were removed. Call it after the
// last record of a walk that was meant to reach the end of the stream; a
// walk that stops earlier on purpose may ignore that error.
func (v *ChainVerifier) Finish() (VerifyReport, error) {
	h := v.head()
	rep := VerifyReport{Stream: v.stream, From: v.from, To: h.Seq, Records: v.records,
		Checkpoints: v.ncps, Signed: v.signed, Head: h}
	if v.maxCP > v.next-1 {
		return rep, v.fail(v.next, ProblemTruncated)
	}
	return rep, nil
}
