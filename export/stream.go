package export

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// This file implements the STREAM construction of the age v1 payload
// (https://age-encryption.org/v1, "Payload"): ChaCha20-Poly1305 over 64 KiB
// chunks, an 11-byte big-endian chunk counter and a last-chunk flag in the
// nonce. age's own reader allocates a fresh 64 KiB buffer per chunk; this one
// opens every chunk in place in a single buffer, so decrypting a file of any
// size allocates a constant amount. The same code encrypts the temporary
// spool files an archive export writes (under a random, never-stored key).

const (
	streamChunk    = 64 * 1024
	streamOverhead = chacha20poly1305.Overhead
	streamEncChunk = streamChunk + streamOverhead
	streamNonceLen = 16 // the payload nonce that follows the age header
)

// errStreamAuth reports a chunk that failed authentication or a stream cut
// short; callers map it to ErrCorrupt.
var errStreamAuth = errors.New("export: payload chunk failed authentication")

// streamPayloadKey derives the payload key from an age file key and the
// 16-byte nonce, exactly as age does: HKDF-SHA-256(fileKey, nonce, "payload").
func streamPayloadKey(fileKey, nonce []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, fileKey, nonce, "payload", chacha20poly1305.KeySize)
}

type streamNonce [chacha20poly1305.NonceSize]byte

func (n *streamNonce) inc() {
	for i := len(n) - 2; i >= 0; i-- {
		n[i]++
		if n[i] != 0 {
			return
		}
	}
	// 2^88 chunks (16 YiB) cannot be reached by a real stream.
	panic("export: stream chunk counter overflow")
}

func (n *streamNonce) setLast() { n[len(n)-1] = 0x01 }

func (n *streamNonce) isZero() bool {
	for _, b := range n[:len(n)-1] {
		if b != 0 {
			return false
		}
	}
	return true
}

// streamReader decrypts an age payload (after the header and nonce) with a
// single reused buffer.
type streamReader struct {
	a      cipher.AEAD
	src    io.Reader
	buf    []byte // one encrypted chunk plus one byte of look-ahead
	ahead  bool   // buf[streamEncChunk] holds the first byte of the next chunk
	unread []byte // decrypted bytes not yet returned, aliasing buf
	nonce  streamNonce
	err    error
}

func newStreamReader(key []byte, src io.Reader) (*streamReader, error) {
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	return &streamReader{a: a, src: src, buf: make([]byte, streamEncChunk+1)}, nil
}

// reset points r at a new payload with a new key, keeping its buffer.
func (r *streamReader) reset(key []byte, src io.Reader) error {
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return err
	}
	*r = streamReader{a: a, src: src, buf: r.buf}
	return nil
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.unread) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		r.err = r.next()
	}
	n := copy(p, r.unread)
	r.unread = r.unread[n:]
	return n, nil
}

// next decrypts one chunk. It reads one byte past a full chunk, so it knows
// whether this is the last chunk without trial decryption; the extra byte is
// kept as the start of the following chunk.
func (r *streamReader) next() error {
	have := 0
	if r.ahead {
		r.buf[0] = r.buf[streamEncChunk]
		have, r.ahead = 1, false
	}
	n, err := io.ReadFull(r.src, r.buf[have:])
	n += have
	last := false
	switch {
	case err == nil:
		// A full chunk and at least one more byte: not the last chunk.
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	default:
		return err
	}
	size := n
	if !last {
		size = streamEncChunk
	}
	if size < streamOverhead || (last && size == streamOverhead && !r.nonce.isZero()) {
		// Truncated, or an empty final chunk that is not the only chunk
		// (the age spec forbids it).
		return errStreamAuth
	}
	if last {
		r.nonce.setLast()
	}
	out, err := r.a.Open(r.buf[:0], r.nonce[:], r.buf[:size], nil)
	if err != nil {
		return errStreamAuth
	}
	r.unread = out
	if !last {
		r.nonce.inc()
		// The plaintext sits in buf[:streamChunk]; the look-ahead byte at
		// buf[streamEncChunk] is moved to the front on the next call.
		r.ahead = true
		return nil
	}
	return io.EOF
}

// streamWriter encrypts an age payload (without header and nonce) with a
// single reused buffer. Close writes the final chunk; it does not close the
// destination.
type streamWriter struct {
	a     cipher.AEAD
	dst   io.Writer
	buf   []byte // plaintext of the current chunk, with room for the tag
	n     int
	nonce streamNonce
	err   error
}

func newStreamWriter(key []byte, dst io.Writer) (*streamWriter, error) {
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	return &streamWriter{a: a, dst: dst, buf: make([]byte, streamEncChunk)}, nil
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	total := len(p)
	for len(p) > 0 {
		if w.n == streamChunk {
			// Only flush a full chunk once more data arrives, so the final
			// chunk is never empty unless the whole stream is.
			if err := w.flush(false); err != nil {
				w.err = err
				return total - len(p), err
			}
		}
		c := copy(w.buf[w.n:streamChunk], p)
		w.n += c
		p = p[c:]
	}
	return total, nil
}

func (w *streamWriter) flush(last bool) error {
	if last {
		w.nonce.setLast()
	}
	out := w.a.Seal(w.buf[:0], w.nonce[:], w.buf[:w.n], nil)
	if _, err := w.dst.Write(out); err != nil {
		return err
	}
	w.n = 0
	if !last {
		w.nonce.inc()
	}
	return nil
}

func (w *streamWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	w.err = errors.New("export: write to closed stream")
	if err := w.flush(true); err != nil {
		return fmt.Errorf("export: final chunk: %w", err)
	}
	return nil
}
