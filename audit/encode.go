package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// encodingVersion is the version byte that starts every canonical record
// encoding. A verifier refuses versions it does not know.
const encodingVersion = 1

// ErrMalformed is returned by [Record.UnmarshalBinary] and the JSON Lines
// reader for input that is not a canonical record, and by stores for a
// stored record that cannot be decoded.
var ErrMalformed = errors.New("audit: malformed record")

// The canonical encoding, version 1. Every string is a uvarint byte length
// followed by that many bytes of UTF-8; counts are uvarints; the time is a
// big-endian int64 of microseconds since the Unix epoch.
//
//	version      byte (1)
//	seq          uvarint
//	prev         32 bytes
//	time         int64, big endian, microseconds
//	tenant, id, actor, actor type, action, target type, target id,
//	outcome, ip, user agent, request id      strings
//	changes      count, then per change: field, old, new (strings), flags byte (1 = redacted)
//	details      count, then key, value (strings), keys strictly ascending
//
// There is exactly one encoding of a record: the decoder rejects unknown
// flags, unsorted or repeated detail keys, invalid UTF-8 and trailing bytes.

// appendBinary appends the canonical encoding of r (without r.Hash) to b.
// It fails for a record over 1 MiB or, when validate is set, with strings
// that are not valid UTF-8. It skips the UTF-8 check when validate is false: a verifier
// only needs the bytes that were hashed, and the check costs a third of
// the time of SHA-256 with hardware support.
func (r *Record) appendBinary(b []byte, validate bool) ([]byte, error) {
	if validate && !r.stringsValid() {
		return b, fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	start := len(b)
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, r.Seq)
	b = append(b, r.Prev[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixMicro()))
	for _, s := range [...]string{r.Tenant, r.ID, r.Actor, r.ActorType, r.Action, r.TargetType,
		r.TargetID, string(r.Outcome), r.IP, r.UserAgent, r.RequestID} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Changes)))
	for _, c := range r.Changes {
		b = appendString(b, c.Field)
		b = appendString(b, c.Old)
		b = appendString(b, c.New)
		if c.Redacted {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(r.Details)))
	if len(r.Details) > 0 {
		for _, k := range sortedKeys(r.Details) {
			b = appendString(b, k)
			b = appendString(b, r.Details[k])
		}
	}
	if len(b)-start > maxRecordBytes {
		return b[:start], fmt.Errorf("%w: encoding over %d bytes", ErrMalformed, maxRecordBytes)
	}
	return b, nil
}

func (r *Record) stringsValid() bool {
	for _, s := range [...]string{r.Tenant, r.ID, r.Actor, r.ActorType, r.Action, r.TargetType,
		r.TargetID, string(r.Outcome), r.IP, r.UserAgent, r.RequestID} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, c := range r.Changes {
		if !utf8.ValidString(c.Field) || !utf8.ValidString(c.Old) || !utf8.ValidString(c.New) {
			return false
		}
	}
	for k, v := range r.Details {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// marshalBinary returns the canonical encoding of r, the bytes its Hash is
// the SHA-256 of.
func (r *Record) marshalBinary() ([]byte, error) {
	return r.appendBinary(make([]byte, 0, 256), true)
}

// computeHash returns the SHA-256 of r's canonical encoding.
func (r *Record) computeHash() ([32]byte, error) {
	b, err := r.marshalBinary()
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// UnmarshalBinary decodes a canonical encoding into r, leaving r.Hash
// alone: the versioned, length-prefixed bytes of every field that
// [Chain.Encoded] returns and whose SHA-256 is the record's Hash. It returns an error wrapping [ErrMalformed] for anything that is
// not exactly one canonical record. It never panics and allocates at most
// about the size of the input.
func (r *Record) UnmarshalBinary(data []byte) error {
	if len(data) > maxRecordBytes {
		return fmt.Errorf("%w: over %d bytes", ErrMalformed, maxRecordBytes)
	}
	d := decoder{b: data}
	if v := d.byte(); v != encodingVersion {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("%w: unknown encoding version %d", ErrMalformed, v)
	}
	var out Record
	out.Seq = d.uvarint()
	copy(out.Prev[:], d.bytes(hashSize))
	out.Time = time.UnixMicro(int64(binary.BigEndian.Uint64(pad8(d.bytes(8))))).UTC()
	for _, p := range [...]*string{&out.Tenant, &out.ID, &out.Actor, &out.ActorType, &out.Action,
		&out.TargetType, &out.TargetID, (*string)(&out.Outcome), &out.IP, &out.UserAgent, &out.RequestID} {
		*p = d.string()
	}
	if n := d.count(4); n > 0 {
		out.Changes = make([]Change, n)
		for i := range out.Changes {
			c := &out.Changes[i]
			c.Field, c.Old, c.New = d.string(), d.string(), d.string()
			switch d.byte() {
			case 0:
			case 1:
				c.Redacted = true
			default:
				d.fail("unknown change flags")
			}
		}
	}
	if n := d.count(2); n > 0 {
		out.Details = make(map[string]string, n)
		prev := ""
		for i := 0; i < n && d.err == nil; i++ {
			k, v := d.string(), d.string()
			if i > 0 && k <= prev {
				d.fail("detail keys not strictly ascending")
			}
			out.Details[k], prev = v, k
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	out.Hash = r.Hash
	*r = out
	return nil
}

func pad8(b []byte) []byte {
	if len(b) == 8 {
		return b
	}
	return make([]byte, 8)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, why)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	// Canonical: the shortest form only.
	if n != len(binary.AppendUvarint(nil, v)) {
		d.fail("non-minimal varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("truncated string")
		return ""
	}
	s := d.bytes(int(n))
	if !utf8.Valid(s) {
		d.fail("invalid UTF-8")
		return ""
	}
	return string(s)
}

// count reads a count of items that take at least minBytes each, so that a
// forged count cannot make the decoder allocate more than the input.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/minBytes) {
		d.fail("count larger than input")
		return 0
	}
	return int(n)
}

// Chain links events into one stream. Stores use it inside whatever
// serialises appends to a stream (a row lock, a mutex): set Head to the
// stream's current head, call Link for each event in order, then store the
// records and the new Head together. A Chain is not safe for concurrent use.
type Chain struct {
	Head Head
	buf  []byte
}

// Link returns ev as the next record of the chain and advances c.Head.
// It fails, leaving c unchanged, when ev belongs to another stream or
// cannot be encoded.
func (c *Chain) Link(ev Entry) (Record, error) {
	if ev.Tenant != c.Head.Stream {
		return Record{}, fmt.Errorf("audit: event of stream %q linked into %q", ev.Tenant, c.Head.Stream)
	}
	r := Record{Entry: ev, Seq: c.Head.Seq + 1, Prev: c.Head.Hash}
	var err error
	c.buf, err = r.appendBinary(c.buf[:0], true)
	if err != nil {
		return Record{}, err
	}
	r.Hash = sha256.Sum256(c.buf)
	c.Head.Seq, c.Head.Hash = r.Seq, r.Hash
	return r, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Encoded returns the canonical encoding of the record the last successful
// Link returned, so a store can keep the exact bytes that were hashed. It
// is valid until the next call to Link.
func (c *Chain) Encoded() []byte { return c.buf }
