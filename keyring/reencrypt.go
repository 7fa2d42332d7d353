package keyring

import (
	"context"
	"fmt"
)

// Record is one encrypted value of the host's, as handed to
// [Admin.ReEncrypt].
type Record struct {
	// ID identifies the record to the host (for example "users/42/email").
	// It appears in errors, so it must not be personal data.
	ID string
	// Ciphertext is the stored value from [Keyring.Seal]. An empty value
	// (a NULL column) is skipped.
	Ciphertext []byte
	// AssociatedData is what the value was sealed with, e.g.
	// AD("users", "email", "42").
	AssociatedData []byte
}

// Update is a record re-encrypted under the primary key.
type Update struct {
	Record
	NewCiphertext []byte
}

// RecordSource is how [Admin.ReEncrypt] walks the host's records.
type RecordSource interface {
	// NextBatch returns up to limit records positioned after cursor ("" is
	// the start) in a stable order (for example by primary key), and the
	// cursor of the last one returned. An empty batch ends the walk.
	NextBatch(ctx context.Context, cursor string, limit int) (records []Record, next string, err error)
	// Replace stores the new ciphertexts. It should write each only where
	// the stored value still equals Update.Ciphertext (compare-and-set), so
	// a concurrent write by the app is not overwritten with older data.
	Replace(ctx context.Context, updates []Update) error
}

// ReEncryptOptions tune [Admin.ReEncrypt]. The zero value starts at the
// beginning with batches of 500.
type ReEncryptOptions struct {
	// Cursor resumes a walk: pass Progress.Cursor from the last call or
	// callback. "" starts at the beginning.
	Cursor string
	// BatchSize is the number of records per NextBatch; default 500.
	BatchSize int
	// Progress, if set, is called after each batch has been replaced. Save
	// Progress.Cursor as the checkpoint to resume from.
	Progress func(Progress)
}

// Progress reports a re-encryption walk.
type Progress struct {
	Cursor      string // checkpoint: every record up to here is done
	Scanned     int64  // records read in this call
	ReEncrypted int64  // records that were under an old key
	Done        bool   // the walk reached the end
}

// ReEncrypt walks the host's records in batches and re-encrypts every
// value that is not under the current primary key, so that old keys can
// then be disabled: once a full pass started at least
// Config.RefreshInterval after the rotation reports ReEncrypted == 0, no
// process still writes under an old key. It handles values from
// [Keyring.Seal]; subject-key values (SealFor) are not re-encrypted and
// stop the walk with ErrUnknownFormat. It is resumable: it reports a checkpoint cursor after
// each batch (and returns it with any error), and values already under the
// primary are left alone, so rerunning from any cursor is safe. It stops
// promptly when ctx is cancelled, returning ctx.Err(). A value that does not
// open stops the walk with the error and the record's ID: re-encryption
// never drops data it cannot read.
func (a *Admin) ReEncrypt(ctx context.Context, src RecordSource, opts ReEncryptOptions) (Progress, error) {
	k := a.k
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	p := Progress{Cursor: opts.Cursor}
	for {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		recs, next, err := src.NextBatch(ctx, p.Cursor, opts.BatchSize)
		if err != nil {
			return p, fmt.Errorf("keyring: re-encrypt: next batch: %w", err)
		}
		if len(recs) == 0 {
			p.Done = true
			if opts.Progress != nil {
				opts.Progress(p)
			}
			return p, nil
		}
		s, err := k.current(ctx)
		if err != nil {
			return p, err
		}
		var updates []Update
		for _, r := range recs {
			if len(r.Ciphertext) == 0 {
				continue
			}
			if id, err := KeyID(r.Ciphertext); err == nil && s.primary != nil && id == s.primary.id && r.Ciphertext[0] == formatKeyring {
				continue
			}
			pt, err := k.Open(ctx, r.Ciphertext, r.AssociatedData)
			if err != nil {
				return p, fmt.Errorf("keyring: re-encrypt record %q: %w", r.ID, err)
			}
			ct, err := k.Seal(ctx, pt, r.AssociatedData)
			clear(pt)
			if err != nil {
				return p, fmt.Errorf("keyring: re-encrypt record %q: %w", r.ID, err)
			}
			updates = append(updates, Update{Record: r, NewCiphertext: ct})
		}
		if len(updates) > 0 {
			if err := src.Replace(ctx, updates); err != nil {
				return p, fmt.Errorf("keyring: re-encrypt: replace: %w", err)
			}
		}
		p.Cursor = next
		p.Scanned += int64(len(recs))
		p.ReEncrypted += int64(len(updates))
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
}
