package export

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// zipEntries reads, as a stream, the zip archives this package writes:
// stored (uncompressed) entries with their sizes in the local headers and
// no data descriptors. It stops at the central directory, which it does
// not need; anything else is ErrCorrupt. (archive/zip needs an
// io.ReaderAt, which an encrypted stream is not.)
//
// Zip tools read the central directory, not the local headers, so once the
// local entries end the central directory and end records are checked to
// describe exactly the entries read (names, offsets, sizes, CRCs), with
// nothing after them: otherwise an archive could verify here and extract
// other, unverified data, under other names, elsewhere.
type zipEntries struct {
	r    io.Reader
	cnt  *zipCounter
	body *io.LimitedReader
	done bool
	seen []zipSeen
}

// zipSeen is what a local header said about one entry.
type zipSeen struct {
	name string
	off  int64 // of the local header
	size int64
	crc  uint32
}

// zipCounter counts the archive's bytes, for offsets.
type zipCounter struct {
	r io.Reader
	n int64
}

func (c *zipCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

const (
	zipLocalHeaderLen = 30
	zipCentralSig     = 0x02014b50
	zipEndSig         = 0x06054b50
	zipLocalSigValue  = 0x04034b50
	zipMaxName        = 1024
	zipCentralLen     = 46
	zipEndLen         = 22
	zip64EndSig       = 0x06064b50
	zip64EndLen       = 56
	zip64LocSig       = 0x07064b50
	zip64LocLen       = 20
	zipMax32          = 0xFFFFFFFF
	zipMax16          = 0xFFFF
)

func (z *zipEntries) next(hint int64) (string, int64, io.Reader, error) {
	if z.done {
		return "", 0, nil, io.EOF
	}
	if z.cnt == nil {
		z.cnt = &zipCounter{r: z.r}
		z.r = z.cnt
	}
	if z.body != nil && z.body.N > 0 {
		if _, err := io.Copy(io.Discard, z.body); err != nil {
			return "", 0, nil, err
		}
	}
	off := z.cnt.n
	var h [zipLocalHeaderLen]byte
	if _, err := io.ReadFull(z.r, h[:4]); err != nil {
		return "", 0, nil, noEOF(err)
	}
	switch sig := binary.LittleEndian.Uint32(h[:4]); sig {
	case zipLocalSigValue:
	case zipCentralSig, zipEndSig:
		if err := z.central(off, sig); err != nil {
			return "", 0, nil, err
		}
		z.done = true
		return "", 0, nil, io.EOF
	default:
		return "", 0, nil, fmt.Errorf("%w: bad zip signature", ErrCorrupt)
	}
	if _, err := io.ReadFull(z.r, h[4:]); err != nil {
		return "", 0, nil, noEOF(err)
	}
	flags := binary.LittleEndian.Uint16(h[6:])
	method := binary.LittleEndian.Uint16(h[8:])
	csize := binary.LittleEndian.Uint32(h[18:])
	usize := binary.LittleEndian.Uint32(h[22:])
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
	if method != 0 || flags&0x9 != 0 || csize != usize {
		return "", 0, nil, fmt.Errorf("%w: zip entry is compressed, encrypted or streamed; only archives written by this package are read", ErrCorrupt)
	}
	if nameLen == 0 || nameLen > zipMaxName {
		return "", 0, nil, fmt.Errorf("%w: zip entry name length", ErrCorrupt)
	}
	name := make([]byte, nameLen)
	if _, err := io.ReadFull(z.r, name); err != nil {
		return "", 0, nil, noEOF(err)
	}
	size := int64(usize)
	extra := &io.LimitedReader{R: z.r, N: extraLen}
	for extra.N >= 4 {
		var f [4]byte
		if _, err := io.ReadFull(extra, f[:]); err != nil {
			return "", 0, nil, noEOF(err)
		}
		id, n := binary.LittleEndian.Uint16(f[:]), int64(binary.LittleEndian.Uint16(f[2:]))
		if id == 0x0001 && n >= 16 && usize == 0xFFFFFFFF {
			// Zip64: original size, then compressed size.
			var s [16]byte
			if _, err := io.ReadFull(extra, s[:]); err != nil {
				return "", 0, nil, noEOF(err)
			}
			size = int64(binary.LittleEndian.Uint64(s[:]))
			if size < 0 || binary.LittleEndian.Uint64(s[8:]) != uint64(size) {
				return "", 0, nil, fmt.Errorf("%w: zip64 sizes", ErrCorrupt)
			}
			n -= 16
		}
		if _, err := io.CopyN(io.Discard, extra, n); err != nil {
			return "", 0, nil, noEOF(err)
		}
	}
	if _, err := io.Copy(io.Discard, extra); err != nil {
		return "", 0, nil, err
	}
	if extra.N != 0 {
		return "", 0, nil, io.ErrUnexpectedEOF
	}
	if size == 0xFFFFFFFF {
		// archive/zip's CreateRaw marks a file of 4 GiB or more this way
		// without a zip64 field; the manifest has the size (and its hash
		// catches a wrong one).
		if hint < 0xFFFFFFFF {
			return "", 0, nil, fmt.Errorf("%w: zip entry size unknown", ErrCorrupt)
		}
		size = hint
	}
	z.body = &io.LimitedReader{R: z.r, N: size}
	z.seen = append(z.seen, zipSeen{name: string(name), off: off, size: size, crc: binary.LittleEndian.Uint32(h[14:])})
	return string(name), size, z.body, nil
}

// central checks the central directory, which starts at off with sig
// already read, and the end records against the local entries seen, and
// that the archive ends right after them.
func (z *zipEntries) central(off int64, sig uint32) error {
	bad := func(why string) error { return fmt.Errorf("%w: zip central directory: %s", ErrCorrupt, why) }
	for i := 0; sig == zipCentralSig; i++ {
		if i >= len(z.seen) {
			return bad("more entries than local headers")
		}
		want := z.seen[i]
		var h [zipCentralLen]byte
		if _, err := io.ReadFull(z.r, h[4:]); err != nil {
			return noEOF(err)
		}
		method := binary.LittleEndian.Uint16(h[10:])
		crc := binary.LittleEndian.Uint32(h[16:])
		csize := int64(binary.LittleEndian.Uint32(h[20:]))
		usize := int64(binary.LittleEndian.Uint32(h[24:]))
		nameLen := int(binary.LittleEndian.Uint16(h[28:]))
		extraLen := int64(binary.LittleEndian.Uint16(h[30:]))
		commentLen := int64(binary.LittleEndian.Uint16(h[32:]))
		local := int64(binary.LittleEndian.Uint32(h[42:]))
		if nameLen != len(want.name) {
			return bad("entry name differs from its local header")
		}
		name := make([]byte, nameLen)
		if _, err := io.ReadFull(z.r, name); err != nil {
			return noEOF(err)
		}
		// Zip64 values, read as archive/zip and Info-ZIP do: in order,
		// only for the fields set to 0xFFFFFFFF, from the first block.
		needU, needC, needOff := usize == zipMax32, csize == zipMax32, local == zipMax32
		extra := &io.LimitedReader{R: z.r, N: extraLen}
		for extra.N >= 4 {
			var f [4]byte
			if _, err := io.ReadFull(extra, f[:]); err != nil {
				return noEOF(err)
			}
			id, n := binary.LittleEndian.Uint16(f[:]), int64(binary.LittleEndian.Uint16(f[2:]))
			if id == 0x0001 {
				for _, p := range []struct {
					need *bool
					v    *int64
				}{{&needU, &usize}, {&needC, &csize}, {&needOff, &local}} {
					if !*p.need || n < 8 {
						continue
					}
					var b [8]byte
					if _, err := io.ReadFull(extra, b[:]); err != nil {
						return noEOF(err)
					}
					*p.need, *p.v, n = false, int64(binary.LittleEndian.Uint64(b[:])), n-8
				}
			}
			if _, err := io.CopyN(io.Discard, extra, n); err != nil {
				return noEOF(err)
			}
		}
		if _, err := io.Copy(io.Discard, extra); err != nil {
			return err
		}
		if extra.N != 0 {
			return io.ErrUnexpectedEOF
		}
		if _, err := io.CopyN(io.Discard, z.r, commentLen); err != nil {
			return noEOF(err)
		}
		if string(name) != want.name || method != 0 || crc != want.crc || local != want.off ||
			csize != want.size || usize != want.size {
			return bad("entry differs from its local header")
		}
		var s [4]byte
		if _, err := io.ReadFull(z.r, s[:]); err != nil {
			return noEOF(err)
		}
		sig = binary.LittleEndian.Uint32(s[:])
	}
	records, size := int64(len(z.seen)), z.cnt.n-4-off
	if sig == zip64EndSig {
		end := z.cnt.n - 4
		var e [zip64EndLen + zip64LocLen]byte
		if _, err := io.ReadFull(z.r, e[4:]); err != nil {
			return noEOF(err)
		}
		le := binary.LittleEndian
		if le.Uint64(e[4:]) != zip64EndLen-12 || le.Uint64(e[24:]) != uint64(records) ||
			le.Uint64(e[32:]) != uint64(records) || le.Uint64(e[40:]) != uint64(size) ||
			le.Uint64(e[48:]) != uint64(off) || le.Uint32(e[56:]) != zip64LocSig ||
			le.Uint64(e[64:]) != uint64(end) {
			return bad("zip64 end record")
		}
		var s [4]byte
		if _, err := io.ReadFull(z.r, s[:]); err != nil {
			return noEOF(err)
		}
		sig = le.Uint32(s[:])
		records, size, off = zipMax16, zipMax32, zipMax32
	}
	if sig != zipEndSig {
		return bad("no end record")
	}
	var e [zipEndLen]byte
	if _, err := io.ReadFull(z.r, e[4:]); err != nil {
		return noEOF(err)
	}
	le := binary.LittleEndian
	if int64(le.Uint16(e[8:])) != min(records, zipMax16) || int64(le.Uint16(e[10:])) != min(records, zipMax16) ||
		int64(le.Uint32(e[12:])) != min(size, zipMax32) || int64(le.Uint32(e[16:])) != min(off, zipMax32) ||
		le.Uint16(e[20:]) != 0 {
		return bad("end record")
	}
	// Nothing may follow: a zip reader looks for the end record from the
	// end of the file.
	var one [1]byte
	n, err := io.ReadFull(z.r, one[:])
	if n != 0 {
		return bad("data after the end record")
	}
	if !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// noEOF turns an EOF inside a structure into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
