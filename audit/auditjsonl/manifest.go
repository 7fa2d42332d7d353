package auditjsonl

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
)

// Manifest is the signed last line of each stream in an export: what the
// export claims to hold. [Verify] refuses a file whose records or
// checkpoints are not exactly that: records From..To (Records of them, the
// last with hash Hash), after the records pruned up to PrunedSeq (whose
// last had hash PrunedHash), with Checkpoints checkpoint lines whose
// canonical lines hash to CheckpointsHash. So removing the oldest records
// (the file would otherwise be byte for byte an export that began later),
// the newest ones, or a checkpoint line is detected. Signed like an
// [audit.Checkpoint], by ExportOptions.Signer; unsigned without one.
type Manifest struct {
	Stream          string
	From, To        uint64   // first and last record held; To = From-1 when none
	Records         uint64   // how many
	Hash            [32]byte // hash of record To, or of record From-1 when none
	PrunedSeq       uint64   // records up to here were pruned from the log when it was exported
	PrunedHash      [32]byte // hash of record PrunedSeq
	Checkpoints     uint64   // checkpoint lines of the stream in the file
	CheckpointsHash [32]byte // SHA-256 over those lines, in file order, newlines included
	Time            time.Time
	KeyID           string
	Signature       []byte
}

const manifestContext = "bulwark.audit.export-manifest.v1\x00"

// signedBytes returns the message the signature covers: a domain-separation
// prefix (distinct from a checkpoint's) and every field but Signature,
// length-prefixed.
func (m *Manifest) signedBytes() []byte {
	b := make([]byte, 0, 200)
	b = append(b, manifestContext...)
	b = appendString(b, m.Stream)
	b = binary.AppendUvarint(b, m.From)
	b = binary.AppendUvarint(b, m.To)
	b = binary.AppendUvarint(b, m.Records)
	b = append(b, m.Hash[:]...)
	b = binary.AppendUvarint(b, m.PrunedSeq)
	b = append(b, m.PrunedHash[:]...)
	b = binary.AppendUvarint(b, m.Checkpoints)
	b = append(b, m.CheckpointsHash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Time.UnixMicro()))
	return appendString(b, m.KeyID)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendManifest appends m as one JSON line, newline included.
func appendManifest(b []byte, m *Manifest) ([]byte, error) {
	l := jsonLine{Type: "manifest", V: version, Stream: m.Stream, From: m.From, To: m.To,
		Records: m.Records, Hash: hex.EncodeToString(m.Hash[:]), Time: m.Time.UTC().Format(timeLayout),
		PrunedSeq: m.PrunedSeq, PrunedHash: hex.EncodeToString(m.PrunedHash[:]),
		Checkpoints: m.Checkpoints, CheckpointsHash: hex.EncodeToString(m.CheckpointsHash[:]),
		KeyID: m.KeyID, Sig: base64.StdEncoding.EncodeToString(m.Signature)}
	return appendJSONLine(b, &l)
}

// checkManifestSignature verifies m's signature with sv. It returns a
// [*audit.ChainError] with [ProblemSignature] for a bad signature and with
// [ProblemUnsigned] for a manifest written without a key.
func checkManifestSignature(m *Manifest, sv audit.SignatureVerifier) error {
	if m.KeyID == "" && len(m.Signature) == 0 {
		return &audit.ChainError{Stream: m.Stream, Seq: m.To, Problem: ProblemUnsigned}
	}
	if sv == nil || !sv.VerifySignature(m.KeyID, m.signedBytes(), m.Signature) {
		return &audit.ChainError{Stream: m.Stream, Seq: m.To, Problem: audit.ProblemSignature}
	}
	return nil
}

func signManifest(ctx context.Context, m *Manifest, s audit.Signer) error {
	if s == nil {
		return nil
	}
	m.KeyID = s.KeyID()
	sig, err := s.Sign(ctx, m.signedBytes())
	if err != nil {
		return err
	}
	m.Signature = sig
	return nil
}

// checkpointDigest hashes checkpoint lines as a Manifest records them.
type checkpointDigest struct {
	h hash.Hash
	n uint64
}

func newCheckpointDigest() *checkpointDigest { return &checkpointDigest{h: sha256.New()} }

func (d *checkpointDigest) add(line []byte) {
	d.h.Write(line)
	d.n++
}

func (d *checkpointDigest) sum() (out [32]byte) {
	d.h.Sum(out[:0])
	return out
}
