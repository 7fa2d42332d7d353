package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// Checkpoint is a signed statement about a stream's chain: "record Seq of
// Stream has hash Hash", and, after pruning, "records up to PrunedSeq were
// removed; the last of them had hash PrunedHash". A verifier holding the key
// detects truncation (the chain ends before a checkpoint) and wholesale
// rewriting (the hashes no longer match a signature an attacker cannot make).
type Checkpoint struct {
	Stream     string
	Seq        uint64   // the record the checkpoint vouches for; 0 only for a stream pruned empty
	Hash       [32]byte // that record's hash
	Time       time.Time
	PrunedSeq  uint64   // records with Seq <= PrunedSeq were pruned; 0 if none
	PrunedHash [32]byte // hash of record PrunedSeq: the anchor of what remains
	KeyID      string
	Signature  []byte
}

const checkpointContext = "bulwark.audit.checkpoint.v1\x00"

// signedBytes returns the message the signature covers: a domain-separation
// prefix and every field but Signature, length-prefixed.
func (c *Checkpoint) signedBytes() []byte {
	b := make([]byte, 0, 160)
	b = append(b, checkpointContext...)
	b = appendString(b, c.Stream)
	b = binary.AppendUvarint(b, c.Seq)
	b = append(b, c.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixMicro()))
	b = binary.AppendUvarint(b, c.PrunedSeq)
	b = append(b, c.PrunedHash[:]...)
	return appendString(b, c.KeyID)
}

// Signer signs checkpoints. Implementations must be safe for concurrent use.
// [HMACKey] and [Ed25519Signer] are provided; a KMS-backed signer fits too.
type Signer interface {
	KeyID() string
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// SignatureVerifier checks checkpoint signatures. It returns false for an
// unknown key id or a bad signature.
type SignatureVerifier interface {
	VerifySignature(keyID string, msg, sig []byte) bool
}

// HMACKey signs and verifies with HMAC-SHA256 (RFC 2104). The key must be
// at least 32 random bytes: 256 bits, above the 128-bit floor of ASVS
// 11.2.3, with SHA-256 as the approved, collision-resistant hash of ASVS
// 11.4.1 and 11.4.3. Anyone who
// can verify can also sign, so prefer [Ed25519Signer] when auditors outside
// the operator's trust boundary verify exports.
type HMACKey struct {
	ID  string
	Key []byte
}

// errWeakKey is returned by [Log.Checkpoint] for an HMAC key under 32 bytes.
var errWeakKey = errors.New("audit: HMAC checkpoint key shorter than 32 bytes")

// KeyID returns k.ID.
func (k HMACKey) KeyID() string { return k.ID }

// Sign returns HMAC-SHA256(k.Key, msg).
func (k HMACKey) Sign(_ context.Context, msg []byte) ([]byte, error) {
	if len(k.Key) < 32 {
		return nil, errWeakKey
	}
	m := hmac.New(sha256.New, k.Key)
	m.Write(msg)
	return m.Sum(nil), nil
}

// VerifySignature reports whether sig is k's HMAC of msg, in constant time.
func (k HMACKey) VerifySignature(keyID string, msg, sig []byte) bool {
	if keyID != k.ID || len(k.Key) < 32 {
		return false
	}
	want, _ := k.Sign(context.Background(), msg)
	return hmac.Equal(want, sig)
}

// Ed25519Signer signs with an Ed25519 private key (RFC 8032).
type Ed25519Signer struct {
	ID  string
	Key ed25519.PrivateKey
}

// KeyID returns s.ID.
func (s Ed25519Signer) KeyID() string { return s.ID }

// Sign returns the Ed25519 signature of msg.
func (s Ed25519Signer) Sign(_ context.Context, msg []byte) ([]byte, error) {
	if len(s.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("audit: bad Ed25519 private key")
	}
	return ed25519.Sign(s.Key, msg), nil
}

// VerifySignature verifies with the public half of the key.
func (s Ed25519Signer) VerifySignature(keyID string, msg, sig []byte) bool {
	if len(s.Key) != ed25519.PrivateKeySize {
		return false
	}
	return Ed25519Verifier{ID: s.ID, Key: s.Key.Public().(ed25519.PublicKey)}.VerifySignature(keyID, msg, sig)
}

// Ed25519Verifier verifies Ed25519 checkpoint signatures with a public key:
// what an auditor holds.
type Ed25519Verifier struct {
	ID  string
	Key ed25519.PublicKey
}

// VerifySignature reports whether sig is a valid signature of msg by v.Key.
func (v Ed25519Verifier) VerifySignature(keyID string, msg, sig []byte) bool {
	return keyID == v.ID && len(v.Key) == ed25519.PublicKeySize && ed25519.Verify(v.Key, msg, sig)
}

// Verifiers tries each verifier in turn, for key rotation: old checkpoints
// stay verifiable with the retired key.
type Verifiers []SignatureVerifier

// VerifySignature reports whether any verifier accepts sig.
func (vs Verifiers) VerifySignature(keyID string, msg, sig []byte) bool {
	for _, v := range vs {
		if v != nil && v.VerifySignature(keyID, msg, sig) {
			return true
		}
	}
	return false
}
