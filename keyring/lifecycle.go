package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Admin administers a [Keyring]'s keys: it adds, promotes, disables and
// destroys data keys, advises and performs rotation, re-encrypts old data,
// moves keys to a new KEK and destroys subject keys. Encryption and
// decryption stay on the Keyring; Admin is the role a key-management job,
// an operator command or a GDPR erasure needs. Get one with [Keyring.Admin];
// it shares the Keyring's cache, so each change takes effect in this
// process at once, and in other processes within Config.RefreshInterval
// (or at once after their [Admin.Sync]). An Admin is safe for concurrent
// use.
type Admin struct {
	k *Keyring
}

// Admin returns the administration role of k. It is cheap; every call
// returns a view of the same keyring.
func (k *Keyring) Admin() *Admin { return &Admin{k: k} }

// Sync writes this process's pending usage counts to the store and
// re-reads the keys, so that changes made by other processes (a rotation,
// a disable, a destroy) take effect here at once rather than within
// Config.RefreshInterval. Call it at shutdown too, so that the stored
// counts stay close to the truth. It returns an error if a count could not
// be written or the keys could not be read.
func (a *Admin) Sync(ctx context.Context) error {
	k := a.k
	if err := k.flushAll(ctx); err != nil {
		return err
	}
	_, err := k.refresh(ctx, true)
	return err
}

// Keys lists the keyring's data keys from the store, ordered by id, without
// their material: Wrapped is nil in every returned [Key], and the
// blind-index key (id 0) is left out.
func (a *Admin) Keys(ctx context.Context) ([]Key, error) {
	keys, err := a.k.store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys: %w", err)
	}
	out := make([]Key, 0, len(keys))
	for _, key := range keys {
		if key.ID == 0 {
			continue
		}
		key.Wrapped = nil
		out = append(out, key)
	}
	return out, nil
}

// AddKey adds a new, enabled (not primary) data key and returns its id.
// Adding a key, waiting Config.RefreshInterval so that every process has
// it, then [Admin.SetState] to [Primary] is the most careful rotation: no
// process ever meets a ciphertext under a key it has not loaded.
// [Admin.Rotate] does both steps at once.
func (a *Admin) AddKey(ctx context.Context) (uint32, error) {
	k := a.k
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
// Follow with [Admin.ReEncrypt] to move old data to the new key, then
// disable the old key with [Admin.SetState]. Rotate returns the new key's
// id.
func (a *Admin) Rotate(ctx context.Context) (uint32, error) {
	k := a.k
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

// SetState moves data key id to state st, with the rules of each state:
//
//   - [Primary] promotes an enabled key: new encryptions use it and the
//     previous primary becomes [Enabled]. A disabled key returns
//     ErrKeyDisabled.
//   - [Enabled] re-enables a disabled key for decryption.
//   - [Disabled] stops a key from decrypting (Open returns ErrKeyDisabled)
//     while keeping its material, so moving it back to Enabled undoes it.
//     The primary cannot be disabled (ErrPrimaryKey), nor can a key whose
//     state changed less than Config.RefreshInterval ago (ErrKeyInUse):
//     another process may not yet have seen the rotation and may still
//     encrypt under it. Disable a key once a full [Admin.ReEncrypt] pass,
//     started at least RefreshInterval after the rotation, re-encrypts
//     nothing.
//
// A missing key returns ErrUnknownKey. Each change is reported to
// Config.Hook as [EventKeyPromoted], [EventKeyEnabled] or
// [EventKeyDisabled].
func (a *Admin) SetState(ctx context.Context, id uint32, st State) error {
	k := a.k
	switch st {
	case Primary:
		return k.setState(ctx, id, Primary, EventKeyPromoted)
	case Enabled:
		return k.setState(ctx, id, Enabled, EventKeyEnabled)
	case Disabled:
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
	default:
		return fmt.Errorf("keyring: invalid key state %q", st)
	}
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
func (a *Admin) Destroy(ctx context.Context, id uint32) error {
	k := a.k
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
// from a periodic job and call [Admin.Rotate] when Rotate is true.
func (a *Admin) RotationAdvice(ctx context.Context) (Advice, error) {
	k := a.k
	s, err := k.refresh(ctx, true)
	if err != nil {
		return Advice{}, err
	}
	p := s.primary
	if p == nil {
		return Advice{}, nil
	}
	adv := Advice{KeyID: p.id, Uses: p.use.stored.Load() + p.use.pending.Load(), Age: k.cfg.Now().Sub(p.createdAt), MaxUses: k.cfg.MaxEncryptions}
	switch {
	case adv.Uses >= k.cfg.RotateAfterEncryptions:
		adv.Rotate, adv.Reason = true, "usage"
	case adv.Age >= k.cfg.RotateAfterAge:
		adv.Rotate, adv.Reason = true, "age"
	}
	return adv, nil
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
func (a *Admin) Rewrap(ctx context.Context, newKEK KEK) (int, error) {
	k := a.k
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
