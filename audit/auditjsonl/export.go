package auditjsonl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bulwarkhq/bulwark/audit"
)

// ExportOptions configures [Export].
type ExportOptions struct {
	// From and To choose the records written; zero From starts at the
	// oldest record kept, zero To runs to the head.
	From, To uint64
	// Signer signs the manifest: pass the Log's Config.Signer. Default
	// none: the manifest is unsigned, and a verifier holding a key refuses
	// it ([ProblemUnsigned]), since anyone could have written the file.
	Signer audit.Signer
	// Now is the clock that dates the manifest. Default time.Now.
	Now func() time.Time
}

// Export writes records From..To of stream in store (zero To: to the
// head) as JSON Lines to w: first every signed checkpoint of the stream up
// to To (including the pruning anchor, unless it was signed over a head
// beyond To: a range ending before it verifies as not anchored), then the
// records in order, then the stream's [Manifest], signed with
// opts.Signer: the range the file holds, what had been pruned, and a
// digest of the checkpoint lines, so that a file cut at either end or
// missing a checkpoint line is refused. [Verify] and the auditverify
// command check such a file offline. It returns how many records it wrote.
func Export(ctx context.Context, w io.Writer, store audit.Store, stream string, opts ExportOptions) (int, error) {
	cps, err := checkpoints(ctx, store, stream)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	m := Manifest{Stream: stream}
	digest := newCheckpointDigest()
	var b []byte
	for i := range cps {
		if opts.To != 0 && cps[i].Seq > opts.To {
			continue
		}
		if b, err = AppendCheckpoint(b[:0], &cps[i]); err != nil {
			return 0, err
		}
		if _, err := bw.Write(b); err != nil {
			return 0, err
		}
		digest.add(b)
		if cps[i].PrunedSeq > m.PrunedSeq {
			m.PrunedSeq, m.PrunedHash = cps[i].PrunedSeq, cps[i].PrunedHash
		}
	}
	m.From = max(opts.From, 1, m.PrunedSeq+1)
	m.To, m.Hash = m.From-1, [32]byte{}
	if m.To == m.PrunedSeq {
		m.Hash = m.PrunedHash
	}
	n := 0
	for next := m.From; opts.To == 0 || next <= opts.To; {
		page, err := store.Records(ctx, stream, next, readPage)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if opts.To != 0 && page[i].Seq > opts.To {
				break
			}
			if b, err = AppendRecord(b[:0], &page[i]); err != nil {
				return n, err
			}
			if _, err := bw.Write(b); err != nil {
				return n, err
			}
			if n == 0 {
				m.From = page[i].Seq
			}
			n++
			m.To, m.Hash = page[i].Seq, page[i].Hash
		}
		next = page[len(page)-1].Seq + 1
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if opts.To != 0 && page[len(page)-1].Seq >= opts.To {
			break
		}
	}
	m.Records, m.Checkpoints, m.CheckpointsHash = uint64(n), digest.n, digest.sum()
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m.Time = now().UTC().Truncate(time.Microsecond)
	if err := signManifest(ctx, &m, opts.Signer); err != nil {
		return n, fmt.Errorf("auditjsonl: sign export manifest: %w", err)
	}
	if b, err = appendManifest(b[:0], &m); err != nil {
		return n, err
	}
	if _, err := bw.Write(b); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// checkpoints reads every checkpoint of stream, a page at a time.
func checkpoints(ctx context.Context, store audit.Store, stream string) ([]audit.Checkpoint, error) {
	var all []audit.Checkpoint
	var from uint64
	for {
		page, err := store.Checkpoints(ctx, stream, from, readPage)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < readPage {
			return all, nil
		}
		// Several checkpoints may share a Seq; re-reading the last Seq and
		// dropping what we have keeps paging exact.
		last := page[len(page)-1].Seq
		if last == from {
			return all, nil // more than a page at one Seq: keep what we have
		}
		for len(all) > 0 && all[len(all)-1].Seq == last {
			all = all[:len(all)-1]
		}
		from = last
	}
}
