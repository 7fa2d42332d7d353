package keyring

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"io"
)

// Ciphertext format versions: the first byte of every ciphertext.
const (
	formatKeyring = 0x01 // sealed under a keyring data key
	formatSubject = 0x02 // sealed under a subject's key
	headerSize    = 1 + 4
	// Overhead is how many bytes Seal adds to a plaintext: the format byte,
	// the 4-byte key id, the 12-byte nonce and the 16-byte GCM tag.
	Overhead = headerSize + gcmNonceSize + gcmTagSize
)

// KeyID returns the id of the key a ciphertext from [Keyring.Seal] (or
// [Keyring.SealFor]) was sealed under, without decrypting it, so a host can
// find what still needs re-encryption. It returns ErrTruncated or
// ErrUnknownFormat for input that is not a ciphertext.
func KeyID(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < Overhead {
		return 0, ErrTruncated
	}
	if ciphertext[0] != formatKeyring && ciphertext[0] != formatSubject {
		return 0, ErrUnknownFormat
	}
	return binary.BigEndian.Uint32(ciphertext[1:headerSize]), nil
}

// sealWith encrypts plaintext as format | id | nonce | GCM(plaintext) with
// GCM's additional data = format | id | ad, in one allocation: the
// additional data is assembled in spare capacity past the ciphertext.
func sealWith(aead cipher.AEAD, r io.Reader, format byte, id uint32, plaintext, ad []byte) ([]byte, error) {
	n := Overhead + len(plaintext)
	buf := make([]byte, n+headerSize+len(ad))
	buf[0] = format
	binary.BigEndian.PutUint32(buf[1:headerSize], id)
	nonce := buf[headerSize : headerSize+gcmNonceSize]
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("keyring: random nonce: %w", err)
	}
	fullAD := buf[n:]
	copy(fullAD, buf[:headerSize])
	copy(fullAD[headerSize:], ad)
	out := aead.Seal(buf[:headerSize+gcmNonceSize], nonce, plaintext, fullAD) // #nosec G407 -- the nonce is read from Rand above
	return out[:n:n], nil
}

// openWith decrypts a ciphertext whose header has been checked.
func openWith(aead cipher.AEAD, ciphertext, ad []byte) ([]byte, error) {
	m := len(ciphertext) - Overhead
	buf := make([]byte, m+headerSize+len(ad))
	fullAD := buf[m:]
	copy(fullAD, ciphertext[:headerSize])
	copy(fullAD[headerSize:], ad)
	pt, err := aead.Open(buf[:0], ciphertext[headerSize:headerSize+gcmNonceSize], ciphertext[headerSize+gcmNonceSize:], fullAD)
	if err != nil {
		return nil, ErrAuthFailed
	}
	return pt[:m:m], nil
}

// parseHeader checks the length and format byte and returns the key id.
func parseHeader(ciphertext []byte, format byte) (uint32, error) {
	if len(ciphertext) < Overhead {
		return 0, ErrTruncated
	}
	if ciphertext[0] != format {
		return 0, ErrUnknownFormat
	}
	return binary.BigEndian.Uint32(ciphertext[1:headerSize]), nil
}

// AD returns associated data binding a ciphertext to its place: a table, a
// column and a row id. Seal a field with AD("users", "email", userID) and
// open it with the same values; a ciphertext copied to another row or
// column then fails with ErrAuthFailed. Each part is length-prefixed, so
// ("a", "bc", ...) and ("ab", "c", ...) differ. Extra parts (a tenant id, a
// schema version) may follow.
func AD(table, column, rowID string, more ...string) []byte {
	n := len(adPrefix) + len(table) + len(column) + len(rowID) + 3*binary.MaxVarintLen64
	for _, m := range more {
		n += len(m) + binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = append(b, adPrefix...)
	for _, s := range append([]string{table, column, rowID}, more...) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

const adPrefix = "bulwark/keyring/ad/v1\x00"

// keyAD is the associated data that binds a wrapped key to its record.
func keyAD(subject string, id uint32) []byte {
	b := make([]byte, 0, 32+len(subject))
	b = append(b, "bulwark/keyring/key/v1\x00"...)
	b = binary.AppendUvarint(b, uint64(len(subject)))
	b = append(b, subject...)
	return binary.BigEndian.AppendUint32(b, id)
}
