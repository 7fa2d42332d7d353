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

// Problem names what a verifier found wrong.
type Problem string

// Problems reported in [ChainError].
const (
	ProblemHash       Problem = "record hash does not match its contents"  // a field was changed
	ProblemLink       Problem = "record does not link to the previous one" // a record was replaced or reordered
	ProblemSequence   Problem = "unexpected sequence number"               // a record was deleted, inserted or reordered
	ProblemStream     Problem = "record of another stream"                 // a record was moved between streams
	ProblemCheckpoint Problem = "record hash differs from signed checkpoint"
	ProblemSignature  Problem = "checkpoint signature invalid"
	ProblemTruncated  Problem = "chain ends before a signed checkpoint or the stored head"
	// ProblemColumn: a value a store keeps beside the record for
	// filtering (an SQL column) differs from the record itself, so
	// queries on it would miss or misattribute the record.
	ProblemColumn Problem = "stored column differs from the record"
	// ProblemRange: an export's records or checkpoint lines are not the
	// ones its signed manifest states (cut at either end, a checkpoint
	// line removed or added), or a stream of an export has no manifest.
	ProblemRange Problem = "export does not hold what its manifest states"
	// ProblemUnsigned: a key was given, but the export manifest is unsigned.
	ProblemUnsigned Problem = "export manifest is not signed"
)

// ChainError reports the first broken record (or checkpoint) found.
// errors.Is(err, ErrTampered) is true for every ChainError.
type ChainError struct {
	Stream  string
	Seq     uint64 // the first record (or checkpoint position) that is wrong
	Problem Problem
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: stream %q record %d: %s", e.Stream, e.Seq, e.Problem)
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *ChainError) Is(target error) bool { return target == ErrTampered }

// ChainVerifier checks records of one stream, in order, one at a time. It is
// what [Log.Verify] and [VerifyJSONL] use, exported for hosts that keep
// records elsewhere. Not safe for concurrent use.
type ChainVerifier struct {
	stream  string
	next    uint64
	prev    [32]byte
	cps     map[uint64][32]byte
	maxCP   uint64
	signed  uint64
	records int
	buf     []byte
}

// NewChainVerifier returns a verifier expecting the record after start:
// Seq start.Seq+1 with Prev start.Hash. Start from the zero Head (with the
// stream set) to verify a stream from its first record.
func NewChainVerifier(start Head) *ChainVerifier {
	return &ChainVerifier{stream: start.Stream, next: start.Seq + 1, prev: start.Hash, cps: map[uint64][32]byte{}}
}

// CheckCheckpoint verifies cp's signature with sv and, if it is good,
// makes later records at cp.Seq answer to it. It returns a [*ChainError]
// with [ProblemSignature] for a bad signature or a checkpoint of another
// stream.
func CheckCheckpoint(cp *Checkpoint, stream string, sv SignatureVerifier) error {
	if cp.Stream != stream || sv == nil || !sv.VerifySignature(cp.KeyID, cp.SignedBytes(), cp.Signature) {
		return &ChainError{Stream: stream, Seq: cp.Seq, Problem: ProblemSignature}
	}
	return nil
}

// AddCheckpoint registers a checkpoint whose signature the caller has
// checked (see [CheckCheckpoint]). A checkpoint before the verifier's start
// is ignored; one exactly at the start must match the start hash; one at or after it must match the record of the same Seq, and
// [ChainVerifier.Finish] reports truncation if no such record was seen.
func (v *ChainVerifier) AddCheckpoint(cp *Checkpoint) error {
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

func (v *ChainVerifier) fail(seq uint64, p Problem) error {
	return &ChainError{Stream: v.stream, Seq: seq, Problem: p}
}

// Next checks r against its own hash, the previous record and any
// checkpoint at its position.
func (v *ChainVerifier) Next(r *Record) error {
	switch {
	case r.Tenant != v.stream:
		return v.fail(r.Seq, ProblemStream)
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

// Head returns the last verified position.
func (v *ChainVerifier) Head() Head { return Head{Stream: v.stream, Seq: v.next - 1, Hash: v.prev} }

// Signed returns the last position vouched for by a signed checkpoint
// that matched: that record, and through the chain every record before
// it, is authentic. Records after it are only linked to each other, and
// anyone could have written them. 0 when no checkpoint matched.
func (v *ChainVerifier) Signed() uint64 { return v.signed }

// Records returns how many records Next accepted.
func (v *ChainVerifier) Records() int { return v.records }

// Finish reports truncation: a checkpoint beyond the last record seen
// means records at the end were removed. Call it after the last record of
// a walk that was meant to reach the end of the stream.
func (v *ChainVerifier) Finish() error {
	if v.maxCP > v.next-1 {
		return v.fail(v.next, ProblemTruncated)
	}
	return nil
}

// VerifyRecords verifies recs as the whole continuation of a stream after
// start, with checkpoints cps (signatures checked with sv; sv may be nil
// when cps is empty). It returns the first problem as a [*ChainError].
func VerifyRecords(start Head, recs []Record, cps []Checkpoint, sv SignatureVerifier) error {
	v := NewChainVerifier(start)
	for i := range cps {
		if err := CheckCheckpoint(&cps[i], start.Stream, sv); err != nil {
			return err
		}
		if err := v.AddCheckpoint(&cps[i]); err != nil {
			return err
		}
	}
	for i := range recs {
		if err := v.Next(&recs[i]); err != nil {
			return err
		}
	}
	return v.Finish()
}
