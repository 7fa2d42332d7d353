package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The JSON Lines format: one object per line, either a record
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
// Every field of the canonical encoding is present, so a verifier rebuilds
// the encoding and recomputes each hash without access to the store.

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

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
}

// AppendRecordJSON appends r as one JSON line, newline included.
func AppendRecordJSON(b []byte, r *Record) ([]byte, error) {
	l := jsonLine{Type: "record", V: EncodingVersion, Stream: r.Tenant, Seq: r.Seq,
		Prev: hex.EncodeToString(r.Prev[:]), Hash: hex.EncodeToString(r.Hash[:]),
		ID: r.ID, Time: r.Time.UTC().Format(timeLayout), Actor: r.Actor, ActorType: r.ActorType,
		Action: r.Action, TargetType: r.TargetType, TargetID: r.TargetID, Outcome: string(r.Outcome),
		IP: r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, Details: r.Details}
	for _, c := range r.Changes {
		l.Changes = append(l.Changes, jsonChange(c))
	}
	return appendJSONLine(b, &l)
}

// AppendCheckpointJSON appends cp as one JSON line, newline included.
func AppendCheckpointJSON(b []byte, cp *Checkpoint) ([]byte, error) {
	l := jsonLine{Type: "checkpoint", V: EncodingVersion, Stream: cp.Stream, Seq: cp.Seq,
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

// Line is one parsed JSON line: exactly one of Record and Checkpoint is set.
type Line struct {
	Record     *Record
	Checkpoint *Checkpoint
}

// ParseLine parses one JSON line (without or with its newline). It returns
// an error wrapping [ErrMalformed] for anything else, including a line that
// is not byte for byte what [AppendRecordJSON] or [AppendCheckpointJSON]
// writes for what it holds: otherwise duplicate keys (encoding/json keeps
// the last, matching case-insensitively, where other readers show the
// first), extra time digits or reordered keys would let several different
// files verify as the same log. It does not check hashes or signatures.
func ParseLine(b []byte) (Line, error) {
	l, err := parseLine(b)
	if err != nil {
		return Line{}, err
	}
	var again []byte
	if l.Record != nil {
		again, err = AppendRecordJSON(nil, l.Record)
	} else {
		again, err = AppendCheckpointJSON(nil, l.Checkpoint)
	}
	if err != nil || !bytes.Equal(again[:len(again)-1], bytes.TrimSuffix(b, []byte{'\n'})) {
		return Line{}, fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return l, nil
}

func parseLine(b []byte) (Line, error) {
	var l jsonLine
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&l); err != nil {
		return Line{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if d.More() {
		return Line{}, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if l.V != EncodingVersion {
		return Line{}, fmt.Errorf("%w: unknown version %d", ErrMalformed, l.V)
	}
	t, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		return Line{}, fmt.Errorf("%w: time", ErrMalformed)
	}
	t = t.UTC()
	hash, err1 := parseHash(l.Hash)
	switch l.Type {
	case "record":
		prev, err2 := parseHash(l.Prev)
		if err := errors.Join(err1, err2); err != nil {
			return Line{}, err
		}
		r := &Record{Seq: l.Seq, Prev: prev, Hash: hash, Event: Event{ID: l.ID, Time: t,
			Tenant: l.Stream, Actor: l.Actor, ActorType: l.ActorType, Action: l.Action,
			TargetType: l.TargetType, TargetID: l.TargetID, Outcome: Outcome(l.Outcome),
			IP: l.IP, UserAgent: l.UserAgent, RequestID: l.RequestID, Details: l.Details}}
		if len(r.Details) == 0 {
			r.Details = nil
		}
		for _, c := range l.Changes {
			r.Changes = append(r.Changes, Change(c))
		}
		return Line{Record: r}, nil
	case "checkpoint":
		pruned, err2 := parseHash(l.PrunedHash)
		sig, err3 := base64.StdEncoding.DecodeString(l.Sig)
		if err := errors.Join(err1, err2, err3); err != nil {
			return Line{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return Line{Checkpoint: &Checkpoint{Stream: l.Stream, Seq: l.Seq, Hash: hash, Time: t,
			PrunedSeq: l.PrunedSeq, PrunedHash: pruned, KeyID: l.KeyID, Signature: sig}}, nil
	default:
		return Line{}, fmt.Errorf("%w: unknown line type", ErrMalformed)
	}
}

func parseHash(s string) ([32]byte, error) {
	var h [32]byte
	if s == "" {
		return h, nil
	}
	if len(s) != 2*hashSize {
		return h, fmt.Errorf("%w: hash length", ErrMalformed)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: hash", ErrMalformed)
	}
	return h, nil
}

// MaxLineBytes caps one JSON line, so a hostile file cannot make a reader
// buffer without bound.
const MaxLineBytes = 4 << 20

// ErrLineTooLong is returned by [LineReader.Next] for a line over MaxLineBytes.
var ErrLineTooLong = errors.New("audit: JSON line too long")

// LineReader reads JSON lines one at a time.
type LineReader struct {
	r    *bufio.Reader
	line int
}

// NewLineReader returns a reader of JSON lines from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next line, io.EOF at the end, or an error naming the
// line number. Blank lines are skipped. A final line without a newline is
// parsed like any other.
func (lr *LineReader) Next() (Line, error) {
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

func (lr *LineReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes {
			return nil, fmt.Errorf("line %d: %w", lr.line+1, ErrLineTooLong)
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

// Export writes records From..To of stream (zero To: to the head) as JSON
// Lines to w: first every signed checkpoint of the stream up to To
// (including the pruning anchor, unless it was signed over a head beyond
// To: a range ending before it verifies as not anchored), then the
// records in order. [VerifyJSONL]
// and the auditverify command check such a file offline.
func (l *Log) Export(ctx context.Context, w io.Writer, stream string, opts VerifyOptions) (int, error) {
	cps, err := l.checkpoints(ctx, stream)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	var b []byte
	for i := range cps {
		if opts.To != 0 && cps[i].Seq > opts.To {
			continue
		}
		if b, err = AppendCheckpointJSON(b[:0], &cps[i]); err != nil {
			return 0, err
		}
		if _, err := bw.Write(b); err != nil {
			return 0, err
		}
	}
	n := 0
	for next := max(opts.From, 1); opts.To == 0 || next <= opts.To; {
		page, err := l.store.Records(ctx, stream, next, verifyPage)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if opts.To != 0 && page[i].Seq > opts.To {
				return n, bw.Flush()
			}
			if b, err = AppendRecordJSON(b[:0], &page[i]); err != nil {
				return n, err
			}
			if _, err := bw.Write(b); err != nil {
				return n, err
			}
			n++
		}
		next = page[len(page)-1].Seq + 1
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// VerifyJSONL verifies a JSON Lines export offline: every record's hash,
// the links and sequence numbers within each stream, and every checkpoint's
// signature (with sv; a file with checkpoints and a nil sv fails with
// ErrNoVerifier). Checkpoints must come before the records of their stream,
// as [Log.Export] writes them. A checkpoint beyond the last record of its
// stream means the file, or the log it came from, was truncated.
// It returns one report per stream, in order of first appearance.
func VerifyJSONL(r io.Reader, sv SignatureVerifier) ([]VerifyReport, error) {
	type state struct {
		rep    VerifyReport
		v      *ChainVerifier
		cps    []*Checkpoint
		anchor *Checkpoint
	}
	streams := map[string]*state{}
	var order []string
	get := func(s string) *state {
		st, ok := streams[s]
		if !ok {
			st = &state{rep: VerifyReport{Stream: s}}
			streams[s] = st
			order = append(order, s)
		}
		return st
	}
	lr := NewLineReader(r)
	for {
		line, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if cp := line.Checkpoint; cp != nil {
			st := get(cp.Stream)
			if st.v != nil {
				return nil, fmt.Errorf("%w: checkpoint after records of stream %q", ErrMalformed, cp.Stream)
			}
			if sv == nil {
				return nil, ErrNoVerifier
			}
			if err := CheckCheckpoint(cp, cp.Stream, sv); err != nil {
				return nil, err
			}
			st.cps = append(st.cps, cp)
			st.rep.Checkpoints++
			if cp.PrunedSeq > 0 && (st.anchor == nil || cp.PrunedSeq > st.anchor.PrunedSeq) {
				st.anchor = cp
			}
			continue
		}
		rec := line.Record
		st := get(rec.Tenant)
		if st.v == nil {
			start := Head{Stream: rec.Tenant}
			switch {
			case rec.Seq == 1:
				st.rep.Anchored = true
			case st.anchor != nil && rec.Seq == st.anchor.PrunedSeq+1:
				start.Seq, start.Hash = st.anchor.PrunedSeq, st.anchor.PrunedHash
				st.rep.Anchored = true
			default:
				// Starts mid-chain: take the first record's word for its
				// predecessor, anchored only if a checkpoint vouches for it.
				start.Seq, start.Hash = rec.Seq-1, rec.Prev
				for _, cp := range st.cps {
					if cp.Seq == start.Seq {
						st.rep.Anchored = true
					}
				}
			}
			st.v = NewChainVerifier(start)
			for _, cp := range st.cps {
				if err := st.v.AddCheckpoint(cp); err != nil {
					return nil, err
				}
			}
			st.rep.From = rec.Seq
		}
		if err := st.v.Next(rec); err != nil {
			return nil, err
		}
	}
	out := make([]VerifyReport, 0, len(order))
	for _, s := range order {
		st := streams[s]
		if st.v == nil {
			start := Head{Stream: s}
			if st.anchor != nil {
				start.Seq, start.Hash = st.anchor.PrunedSeq, st.anchor.PrunedHash
			}
			st.v = NewChainVerifier(start)
			for _, cp := range st.cps {
				if err := st.v.AddCheckpoint(cp); err != nil {
					return nil, err
				}
			}
		}
		if err := st.v.Finish(); err != nil {
			return nil, err
		}
		st.rep.Records, st.rep.Head, st.rep.To, st.rep.Signed = st.v.Records(), st.v.Head(), st.v.Head().Seq, st.v.Signed()
		out = append(out, st.rep)
	}
	return out, nil
}
