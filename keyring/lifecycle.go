package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// KeyInfo describes a data key, without its material.
type KeyInfo struct {
	ID                   uint32
	State                State
	Uses                 uint64 // encryptions recorded in the store
	CreatedAt, UpdatedAt time.Time
}

// Keys lists the keyring's data keys from the store, ordered by id.
func (k *Keyring) Keys(ctx context.Context) ([]KeyInfo, error) {
	keys, err := k.store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys: %w", err)
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, key := range keys {
		if key.ID == 0 {
			continue
		}
		out = append(out, KeyInfo{ID: key.ID, State: key.State, Uses: key.Uses, CreatedAt: key.CreatedAt, UpdatedAt: key.UpdatedAt})
	}
	return out, nil
}

// AddKey adds a new, enabled (not primary) data key and returns its id.
// Adding a key, waiting Config.RefreshInterval so that every process has
// it, then [Keyring.Promote] is the most careful rotation: no process ever
// meets a ciphertext under a key it has not loaded. [Keyring.Rotate] does
// both steps at once.
func (k *Keyring) AddKey(ctx context.Context) (uint32, error) {
	id, err := k.addKey(ctx, Enabled)
	if err != nil {
		return 0, err
	}
	k.emit(ctx, Event{Type: EventKeyAdded, KeyID: id})
	_, err = k.refresh(ctx, true)
	return id, err
}

// Rotate adds a new data key and promotes it to primary, so that new
// encryptions use it; the previous primary stays enabled for decryption.
// Other processes pick the new primary up within Config.RefreshInterval
// (they keep encrypting under the old one until then, which stays valid).
// Follow with [Keyring.ReEncrypt] to move old data to the new key, then
// [Keyring.Disable] the old key. Rotate returns the new key's id.
func (k *Keyring) Rotate(ctx context.Context) (uint32, error) {
	id, err := k.addKey(ctx, Enabled)
	if err != nil {
		return 0, err
	}
	k.emit(ctx, Event{Type: EventKeyAdded, KeyID: id})
	if err := k.setState(ctx, id, Primary, EventKeyPromoted); err != nil {
		return 0, err
	}
	return id, nil
}

// Promote makes an enabled key the primary; the previous primary becomes
// enabled. It returns ErrKeyDisabled for a disabled key and ErrUnknownKey
// for a missing one.
func (k *Keyring) Promote(ctx context.Context, id uint32) error {
	return k.setState(ctx, id, Primary, EventKeyPromoted)
}

// Enable re-enables a disabled key for decryption.
func (k *Keyring) Enable(ctx context.Context, id uint32) error {
	return k.setState(ctx, id, Enabled, EventKeyEnabled)
}

// Disable stops a key from decrypting (Open returns ErrKeyDisabled) while
// keeping its material, so [Keyring.Enable] can undo it. The primary cannot
// be disabled (ErrPrimaryKey), nor can a key whose state changed less than
// Config.RefreshInterval ago (ErrKeyInUse): another process may not yet
// have seen the rotation and may still encrypt under it. Disable a key once
// a full [Keyring.ReEncrypt] pass, started at least RefreshInterval after
// the rotation, re-encrypts nothing.
func (k *Keyring) Disable(ctx context.Context, id uint32) error {
	if id != 0 {
		key, err := k.store.Key(ctx, id)
		if err != nil {
			return k.lifecycleErr(err)
		}
		if key.State == Enabled && k.cfg.Now().Sub(key.UpdatedAt) < k.cfg.RefreshInterval {
			return ErrKeyInUse
		}
	}
	return k.setState(ctx, id, Disabled, EventKeyDisabled)
}

func (k *Keyring) setState(ctx context.Context, id uint32, st State, ev EventType) error {
	if id == 0 {
		return ErrUnknownKey
	}
	if err := k.store.SetState(ctx, id, st, k.cfg.Now().UTC()); err != nil {
		return k.lifecycleErr(err)
	}
	k.emit(ctx, Event{Type: ev, KeyID: id})
	_, err := k.refresh(ctx, true)
	return err
}

func (k *Keyring) lifecycleErr(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrUnknownKey
	case errors.Is(err, ErrPrimaryKey), errors.Is(err, ErrKeyDisabled), errors.Is(err, ErrKeyEnabled):
		return err
	default:
		return fmt.Errorf("keyring: %w", err)
	}
}

// Destroy deletes a disabled key for good: every ciphertext under it
// becomes unreadable (ErrUnknownKey). It returns ErrPrimaryKey for the
// primary and ErrKeyEnabled for an enabled key, so destruction always
// takes two deliberate steps.
func (k *Keyring) Destroy(ctx context.Context, id uint32) error {
	if id == 0 {
		return ErrUnknownKey
	}
	if err := k.store.DestroyKey(ctx, id); err != nil {
		return k.lifecycleErr(err)
	}
	k.emit(ctx, Event{Type: EventKeyDestroyed, KeyID: id})
	_, err := k.refresh(ctx, true)
	return err
}

// Advice is the keyring's rotation advice for its primary key.
type Advice struct {
	Rotate  bool
	Reason  string // "usage", "age" or ""
	KeyID   uint32
	Uses    uint64 // recorded in the store plus pending in this process
	Age     time.Duration
	MaxUses uint64 // Config.MaxEncryptions
}

// RotationAdvice tells whether the primary key should be rotated: when its
// encryptions reach Config.RotateAfterEncryptions (half the NIST SP 800-38D
// limit by default) or its age reaches Config.RotateAfterAge. Hosts run it
// from a periodic job and call [Keyring.Rotate] when Rotate is true.
func (k *Keyring) RotationAdvice(ctx context.Context) (Advice, error) {
	s, err := k.refresh(ctx, true)
	if err != nil {
		return Advice{}, err
	}
	p := s.primary
	if p == nil {
		return Advice{}, nil
	}
	a := Advice{KeyID: p.id, Uses: p.use.stored.Load() + p.use.pending.Load(), Age: k.cfg.Now().Sub(p.createdAt), MaxUses: k.cfg.MaxEncryptions}
	switch {
	case a.Uses >= k.cfg.RotateAfterEncryptions:
		a.Rotate, a.Reason = true, "usage"
	case a.Age >= k.cfg.RotateAfterAge:
		a.Rotate, a.Reason = true, "age"
	}
	return a, nil
}

// Rewrap moves every stored key (data keys, the blind-index key and all
// subject keys) under newKEK without touching any ciphertext: each key is
// unwrapped with the current or a previous KEK and wrapped again. Keys
// already under newKEK are skipped, so an interrupted Rewrap can simply be
// run again. Afterwards this Keyring wraps new keys with newKEK and keeps
// the old KEK as a previous one.
//
// With several processes: first give all of them newKEK in
// Config.PreviousKEKs (so they can read keys wrapped either way); once all
// have it, make newKEK their KEK with the old one in PreviousKEKs (so every
// key created from then on, by a rotation or a first SealFor, is wrapped
// under newKEK); then run Rewrap once; then retire the old KEK. A Rewrap
// run while some process still wraps with the old KEK misses the keys that
// process creates afterwards, and retiring the old KEK would make them
// unreadable: run Rewrap again after the switch. Rewrap returns how many
// keys it rewrapped.
func (k *Keyring) Rewrap(ctx context.Context, newKEK KEK) (int, error) {
	if newKEK == nil {
		return 0, errNilKEK
	}
	old := *k.keks.Load()
	keks := append([]KEK{newKEK}, old...)
	k.keks.Store(&keks)

	keys, err := k.store.Keys(ctx)
	if err != nil {
		return 0, fmt.Errorf("keyring: rewrap: %w", err)
	}
	n, err := k.rewrapAll(ctx, keys)
	if err != nil {
		return n, err
	}
	for after := ""; ; {
		batch, err := k.store.SubjectKeys(ctx, after, 500)
		if err != nil {
			return n, fmt.Errorf("keyring: rewrap: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		m, err := k.rewrapAll(ctx, batch)
		n += m
		if err != nil {
			return n, err
		}
		after = batch[len(batch)-1].Subject
	}
	k.emit(ctx, Event{Type: EventRewrapped, Count: uint64(n)})
	return n, nil
}

func (k *Keyring) rewrapAll(ctx context.Context, keys []Key) (int, error) {
	n := 0
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, which, err := k.unwrap(ctx, key)
		if err != nil {
			return n, fmt.Errorf("keyring: rewrap key %d: %w", key.ID, err)
		}
		if which == 0 {
			clear(m)
			continue // already under the new KEK
		}
		w, err := k.wrap(ctx, key.Subject, key.ID, m)
		clear(m)
		if err != nil {
			return n, err
		}
		err = k.store.ReplaceWrapped(ctx, key.Subject, key.ID, key.Wrapped, w)
		if errors.Is(err, ErrNotFound) {
			continue // destroyed or rewrapped by another process meanwhile
		}
		if err != nil {
			return n, fmt.Errorf("keyring: rewrap key %d: %w", key.ID, err)
		}
		n++
	}
	return n, nil
}
