// Package auditjsonl is the JSON Lines form of an audit log: a codec for
// records and checkpoints (used by audit/auditfile), [Export], which writes
// a stream of an [audit.Store] with every hash, the signed checkpoints and
// a signed [Manifest], and [Verify], which checks such a file offline,
// without the database (examples/auditverify is a command around it).
//
// # Format
//
// One object per line, either a record
//
//	{"type":"record","v":1,"stream":"t1","seq":7,"prev":"<hex>","hash":"<hex>",
//	 "id":"...","time":"2026-01-02T03:04:05.000006Z","actor":"u1",...,
//	 "changes":[{"field":"email","old":"a@x","new":"b@x"}],"details":{...}}
//
// or a checkpoint
//
//	{"type":"checkpoint","v":1,"stream":"t1","seq":1024,"hash":"<hex>","time":"...",
//	 "pruned_seq":0,"pruned_hash":"<hex>","key_id":"k1","sig":"<base64>"}
//
// or, as the last line of each stream of an export, its signed [Manifest]
//
//	{"type":"manifest","v":1,"stream":"t1","seq":0,"hash":"<hex>","time":"...",
//	 "pruned_seq":50,"pruned_hash":"<hex>","key_id":"k1","sig":"<base64>",
//	 "from":51,"to":1100,"records":1050,"checkpoints":2,"checkpoints_hash":"<hex>"}
//
// Every field of the canonical record encoding is present, so a verifier
// rebuilds the encoding and recomputes each hash without the store. Only
// the canonical form of each line is accepted ([ParseLine]), so that no
// two different files verify as the same log.
package auditjsonl

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
)

const (
	version    = 1    // the "v" of every line: version 1 of the canonical record encoding
	hashSize   = 32   // SHA-256
	readPage   = 1000 // records and checkpoints read per store call by Export
	timeLayout = "2006-01-02T15:04:05.000000Z07:00"
)

type jsonChange struct {
	Field    string `json:"field"`
	Old      string `json:"old"`
	New      string `json:"new"`
	Redacted bool   `json:"redacted,omitempty"`
}

type jsonLine struct {
	Type       string            `json:"type"`
	V          int               `json:"v"`
	Stream     string            `json:"stream"`
	Seq        uint64            `json:"seq"`
	Prev       string            `json:"prev,omitempty"`
	Hash       string            `json:"hash"`
	ID         string            `json:"id,omitempty"`
	Time       string            `json:"time"`
	Actor      string            `json:"actor,omitempty"`
	ActorType  string            `json:"actor_type,omitempty"`
	Action     string            `json:"action,omitempty"`
	TargetType string            `json:"target_type,omitempty"`
	TargetID   string            `json:"target_id,omitempty"`
	Outcome    string            `json:"outcome,omitempty"`
	IP         string            `json:"ip,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	Changes    []jsonChange      `json:"changes,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
	PrunedSeq  uint64            `json:"pruned_seq,omitempty"`
	PrunedHash string            `json:"pruned_hash,omitempty"`
	KeyID      string            `json:"key_id,omitempty"`
	Sig        string            `json:"sig,omitempty"`
	// Manifest lines only.
	From            uint64 `json:"from,omitempty"`
	To              uint64 `json:"to,omitempty"`
	Records         uint64 `json:"records,omitempty"`
	Checkpoints     uint64 `json:"checkpoints,omitempty"`
	CheckpointsHash string `json:"checkpoints_hash,omitempty"`
}

// AppendRecord appends r as one JSON line, newline included.
func AppendRecord(b []byte, r *audit.Record) ([]byte, error) {
	l := jsonLine{Type: "record", V: version, Stream: r.Tenant, Seq: r.Seq,
		Prev: hex.EncodeToString(r.Prev[:]), Hash: hex.EncodeToString(r.Hash[:]),
		ID: r.ID, Time: r.Time.UTC().Format(timeLayout), Actor: r.Actor, ActorType: r.ActorType,
		Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID, Outcome: string(r.Outcome),
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, Details: r.Details}
	for _, c := range r.Changes {
		l.Changes = append(l.Changes, jsonChange(c))
	}
	return appendJSONLine(b, &l)
}

// AppendCheckpoint appends cp as one JSON line, newline included.
func AppendCheckpoint(b []byte, cp *audit.Checkpoint) ([]byte, error) {
	l := jsonLine{Type: "checkpoint", V: version, Stream: cp.Stream, Seq: cp.Seq,
		Hash: hex.EncodeToString(cp.Hash[:]), Time: cp.Time.UTC().Format(timeLayout),
		PrunedSeq: cp.PrunedSeq, PrunedHash: hex.EncodeToString(cp.PrunedHash[:]),
		KeyID: cp.KeyID, Sig: base64.StdEncoding.EncodeToString(cp.Signature)}
	return appendJSONLine(b, &l)
}

func appendJSONLine(b []byte, l *jsonLine) ([]byte, error) {
	j, err := json.Marshal(l)
	if err != nil {
		return b, err
	}
	b = append(b, j...)
	return append(b, '\n'), nil
}

// Line is one parsed JSON line: exactly one of Record, Checkpoint and
// Manifest is set.
type Line struct {
	Record     *audit.Record
	Checkpoint *audit.Checkpoint
	Manifest   *Manifest
}

// ParseLine parses one JSON line (without or with its newline). It returns
// an error wrapping [audit.ErrMalformed] for anything else, including a line that
// is not byte for byte what [AppendRecord], [AppendCheckpoint] or
// Export writes for a manifest, for what it holds: otherwise duplicate keys (encoding/json keeps
// the last, matching case-insensitively, where other readers show the
// first), extra time digits or reordered keys would let several different
// files verify as the same log. It does not check hashes or signatures.
func ParseLine(b []byte) (Line, error) {
	l, err := parseLine(b)
	if err != nil {
		return Line{}, err
	}
	var again []byte
	switch {
	case l.Record != nil:
		again, err = AppendRecord(nil, l.Record)
	case l.Checkpoint != nil:
		again, err = AppendCheckpoint(nil, l.Checkpoint)
	default:
		again, err = appendManifest(nil, l.Manifest)
	}
	if err != nil || !bytes.Equal(again[:len(again)-1], bytes.TrimSuffix(b, []byte{'\n'})) {
		return Line{}, fmt.Errorf("%w: not in canonical form", audit.ErrMalformed)
	}
	return l, nil
}

func parseLine(b []byte) (Line, error) {
	var l jsonLine
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&l); err != nil {
		return Line{}, fmt.Errorf("%w: %w", audit.ErrMalformed, err)
	}
	if d.More() {
		return Line{}, fmt.Errorf("%w: trailing data", audit.ErrMalformed)
	}
	if l.V != version {
		return Line{}, fmt.Errorf("%w: unknown version %d", audit.ErrMalformed, l.V)
	}
	t, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		return Line{}, fmt.Errorf("%w: time", audit.ErrMalformed)
	}
	t = t.UTC()
	hash, err1 := parseHash(l.Hash)
	switch l.Type {
	case "record":
		prev, err2 := parseHash(l.Prev)
		if err := errors.Join(err1, err2); err != nil {
			return Line{}, err
		}
		r := &audit.Record{Seq: l.Seq, Prev: prev, Hash: hash, Entry: audit.Entry{ID: l.ID, Time: t,
			Tenant: l.Stream, Actor: l.Actor, ActorType: l.ActorType, Action: l.Action,
			TargetType: l.TargetType, TargetID: l.TargetID, Outcome: audit.Outcome(l.Outcome),
			IP: l.IP, UserAgent: l.UserAgent, RequestID: l.RequestID, Details: l.Details}}
		if len(r.Details) == 0 {
			r.Details = nil
		}
		for _, c := range l.Changes {
			r.Changes = append(r.Changes, audit.Change(c))
		}
		return Line{Record: r}, nil
	case "checkpoint":
		pruned, err2 := parseHash(l.PrunedHash)
		sig, err3 := base64.StdEncoding.DecodeString(l.Sig)
		if err := errors.Join(err1, err2, err3); err != nil {
			return Line{}, fmt.Errorf("%w: %w", audit.ErrMalformed, err)
		}
		return Line{Checkpoint: &audit.Checkpoint{Stream: l.Stream, Seq: l.Seq, Hash: hash, Time: t,
			PrunedSeq: l.PrunedSeq, PrunedHash: pruned, KeyID: l.KeyID, Signature: sig}}, nil
	case "manifest":
		pruned, err2 := parseHash(l.PrunedHash)
		cph, err3 := parseHash(l.CheckpointsHash)
		sig, err4 := base64.StdEncoding.DecodeString(l.Sig)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return Line{}, fmt.Errorf("%w: %w", audit.ErrMalformed, err)
		}
		return Line{Manifest: &Manifest{Stream: l.Stream, From: l.From, To: l.To, Records: l.Records,
			Hash: hash, PrunedSeq: l.PrunedSeq, PrunedHash: pruned, Checkpoints: l.Checkpoints,
			CheckpointsHash: cph, Time: t, KeyID: l.KeyID, Signature: sig}}, nil
	default:
		return Line{}, fmt.Errorf("%w: unknown line type", audit.ErrMalformed)
	}
}

func parseHash(s string) ([32]byte, error) {
	var h [32]byte
	if s == "" {
		return h, nil
	}
	if len(s) != 2*hashSize {
		return h, fmt.Errorf("%w: hash length", audit.ErrMalformed)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: hash", audit.ErrMalformed)
	}
	return h, nil
}

// maxLineBytes caps one JSON line, so a hostile file cannot make a reader
// buffer without bound.
const maxLineBytes = 4 << 20

// errLineTooLong is returned by Verify for a line over maxLineBytes.
var errLineTooLong = errors.New("auditjsonl: JSON line too long")

// lineReader reads JSON lines one at a time.
type lineReader struct {
	r    *bufio.Reader
	line int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, io.EOF at the end, or an error naming the
// line number. Blank lines are skipped. A final line without a newline is
// parsed like any other.
func (lr *lineReader) next() (Line, error) {
	for {
		raw, err := lr.readLine()
		if err != nil {
			return Line{}, err
		}
		lr.line++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		l, err := ParseLine(raw)
		if err != nil {
			return Line{}, fmt.Errorf("line %d: %w", lr.line, err)
		}
		return l, nil
	}
}

func (lr *lineReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLineBytes {
			return nil, fmt.Errorf("line %d: %w", lr.line+1, errLineTooLong)
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return buf, nil
		default:
			return nil, err
		}
	}
}
