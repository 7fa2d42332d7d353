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
type zipEntries struct {
	r    io.Reader
	body *io.LimitedReader
	done bool
}

const (
	zipLocalHeaderLen = 30
	zipCentralSig     = 0x02014b50
	zipEndSig         = 0x06054b50
	zipLocalSigValue  = 0x04034b50
	zipMaxName        = 1024
)

func (z *zipEntries) next(hint int64) (string, int64, io.Reader, error) {
	if z.done {
		return "", 0, nil, io.EOF
	}
	if z.body != nil && z.body.N > 0 {
		if _, err := io.Copy(io.Discard, z.body); err != nil {
			return "", 0, nil, err
		}
	}
	var h [zipLocalHeaderLen]byte
	if _, err := io.ReadFull(z.r, h[:4]); err != nil {
		return "", 0, nil, noEOF(err)
	}
	switch binary.LittleEndian.Uint32(h[:4]) {
	case zipLocalSigValue:
	case zipCentralSig, zipEndSig:
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
	return string(name), size, z.body, nil
}

// noEOF turns an EOF inside a structure into ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
