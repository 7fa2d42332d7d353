package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
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
// [NewHMACKey] and [NewEd25519Key] make one; a KMS-backed signer fits too.
type Signer interface {
	KeyID() string
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// SignatureVerifier checks checkpoint signatures. It returns false for an
// unknown key id or a bad signature.
type SignatureVerifier interface {
	VerifySignature(keyID string, msg, sig []byte) bool
}

// Key signs checkpoints and verifies their signatures: what [NewHMACKey]
// and [NewEd25519Key] return, for Config.Signer (the Log then verifies
// with it too) or an offline verifier.
type Key interface {
	Signer
	SignatureVerifier
}

// errWeakKey is returned by NewHMACKey for a key under 32 bytes.
var errWeakKey = errors.New("audit: HMAC checkpoint key shorter than 32 bytes")

// NewHMACKey returns a Key that signs and verifies with HMAC-SHA256 (RFC
// 2104) under key, named id. The key must be at least 32 random bytes
// (an error otherwise): 256 bits, above the 128-bit floor of ASVS 11.2.3,
// with SHA-256 as the approved, collision-resistant hash of ASVS 11.4.1
// and 11.4.3. Anyone who can verify can also sign, so prefer
// [NewEd25519Key] when auditors outside the operator's trust boundary
// verify exports. Verification compares in constant time.
func NewHMACKey(id string, key []byte) (Key, error) {
	if len(key) < 32 {
		return nil, errWeakKey
	}
	return hmacKey{id: id, key: bytes.Clone(key)}, nil
}

type hmacKey struct {
	id  string
	key []byte
}

func (k hmacKey) KeyID() string { return k.id }

func (k hmacKey) Sign(_ context.Context, msg []byte) ([]byte, error) {
	m := hmac.New(sha256.New, k.key)
	m.Write(msg)
	return m.Sum(nil), nil
}

func (k hmacKey) VerifySignature(keyID string, msg, sig []byte) bool {
	if keyID != k.id {
		return false
	}
	want, _ := k.Sign(context.Background(), msg)
	return hmac.Equal(want, sig)
}

// NewEd25519Key returns a Key that signs with the Ed25519 private key priv
// (RFC 8032), named id, and verifies with its public half. It returns an
// error for a key of the wrong size.
func NewEd25519Key(id string, priv ed25519.PrivateKey) (Key, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, errors.New("audit: bad Ed25519 private key")
	}
	return ed25519Key{ed25519Verifier: ed25519Verifier{id: id, key: priv.Public().(ed25519.PublicKey)},
		priv: bytes.Clone(priv)}, nil
}

type ed25519Key struct {
	ed25519Verifier
	priv ed25519.PrivateKey
}

func (k ed25519Key) KeyID() string { return k.id }

func (k ed25519Key) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, msg), nil
}

// NewEd25519Verifier returns a SignatureVerifier for checkpoints signed by
// the Ed25519 key named id whose public half is pub: what an auditor
// holds. It returns an error for a key of the wrong size.
func NewEd25519Verifier(id string, pub ed25519.PublicKey) (SignatureVerifier, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("audit: bad Ed25519 public key")
	}
	return ed25519Verifier{id: id, key: bytes.Clone(pub)}, nil
}

type ed25519Verifier struct {
	id  string
	key ed25519.PublicKey
}

func (v ed25519Verifier) VerifySignature(keyID string, msg, sig []byte) bool {
	return keyID == v.id && ed25519.Verify(v.key, msg, sig)
}

// Verifiers returns a SignatureVerifier that accepts a signature when any
// of vs does, for key rotation: old checkpoints stay verifiable with the
// retired key. Nil entries are skipped.
func Verifiers(vs ...SignatureVerifier) SignatureVerifier { return verifiers(slices.Clone(vs)) }

type verifiers []SignatureVerifier

func (vs verifiers) VerifySignature(keyID string, msg, sig []byte) bool {
	for _, v := range vs {
		if v != nil && v.VerifySignature(keyID, msg, sig) {
			return true
		}
	}
	return false
}
