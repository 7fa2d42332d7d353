package mfa_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

var errStore = errors.New("store unavailable")

// flakyStore wraps a memstore and fails the methods named in fail (all of
// them when fail is nil).
type flakyStore struct {
	mfa.Store
	fail map[string]bool
}

func (s *flakyStore) err(name string) error {
	if s.fail == nil || s.fail[name] {
		return errStore
	}
	return nil
}

func (s *flakyStore) PutPendingTOTP(ctx context.Context, r mfa.TOTPRecord) error {
	if err := s.err("PutPendingTOTP"); err != nil {
		return err
	}
	return s.Store.PutPendingTOTP(ctx, r)
}

func (s *flakyStore) GetTOTP(ctx context.Context, u string) (mfa.TOTPRecord, error) {
	if err := s.err("GetTOTP"); err != nil {
		return mfa.TOTPRecord{}, err
	}
	return s.Store.GetTOTP(ctx, u)
}

func (s *flakyStore) ConfirmTOTP(ctx context.Context, u, id string, at time.Time) error {
	if err := s.err("ConfirmTOTP"); err != nil {
		return err
	}
	return s.Store.ConfirmTOTP(ctx, u, id, at)
}

func (s *flakyStore) DeleteTOTP(ctx context.Context, u string) error {
	if err := s.err("DeleteTOTP"); err != nil {
		return err
	}
	return s.Store.DeleteTOTP(ctx, u)
}

func (s *flakyStore) MarkStep(ctx context.Context, u string, step int64, keep time.Duration) (bool, error) {
	if err := s.err("MarkStep"); err != nil {
		return true, err // a broken store that also claims success
	}
	return s.Store.MarkStep(ctx, u, step, keep)
}

func (s *flakyStore) AddCount(ctx context.Context, k string, n int64, w time.Duration, now time.Time) (int64, time.Time, error) {
	if err := s.err("AddCount"); err != nil {
		return 1, time.Time{}, err // a count that would allow, with the error
	}
	return s.Store.AddCount(ctx, k, n, w, now)
}

func (s *flakyStore) ResetCount(ctx context.Context, k string) error {
	if err := s.err("ResetCount"); err != nil {
		return err
	}
	return s.Store.ResetCount(ctx, k)
}

func (s *flakyStore) PutOOB(ctx context.Context, r mfa.OOBRecord, d time.Duration) error {
	if err := s.err("PutOOB"); err != nil {
		return err
	}
	return s.Store.PutOOB(ctx, r, d)
}

func (s *flakyStore) GetOOB(ctx context.Context, u string, p mfa.Purpose, now time.Time) (mfa.OOBRecord, error) {
	if err := s.err("GetOOB"); err != nil {
		return mfa.OOBRecord{}, err
	}
	return s.Store.GetOOB(ctx, u, p, now)
}

func (s *flakyStore) DeleteOOB(ctx context.Context, u string, p mfa.Purpose, id string) (bool, error) {
	if err := s.err("DeleteOOB"); err != nil {
		return true, err
	}
	return s.Store.DeleteOOB(ctx, u, p, id)
}

func (s *flakyStore) ReplaceRecoveryCodes(ctx context.Context, u string, h [][]byte, now time.Time) error {
	if err := s.err("ReplaceRecoveryCodes"); err != nil {
		return err
	}
	return s.Store.ReplaceRecoveryCodes(ctx, u, h, now)
}

func (s *flakyStore) UseRecoveryCode(ctx context.Context, u string, h []byte) (int, error) {
	if err := s.err("UseRecoveryCode"); err != nil {
		return 5, err
	}
	return s.Store.UseRecoveryCode(ctx, u, h)
}

func (s *flakyStore) CountRecoveryCodes(ctx context.Context, u string) (int, error) {
	if err := s.err("CountRecoveryCodes"); err != nil {
		return 0, err
	}
	return s.Store.CountRecoveryCodes(ctx, u)
}

// failingSealer opens nothing.
type failingSealer struct{ mfa.Sealer }

func (failingSealer) Open(context.Context, []byte, []byte) ([]byte, error) {
	return nil, errors.New("sealer: key unavailable")
}

// TestFailClosed sets up valid factors and codes on a healthy store, then
// breaks one store method (or all of them, or the sealer) and presents
// the valid codes: nothing may get through.
func TestFailClosed(t *testing.T) {
	t.Parallel()
	methods := []string{"ALL", "SEALER", "GetTOTP", "ConfirmTOTP", "MarkStep", "AddCount", "ResetCount",
		"GetOOB", "DeleteOOB", "UseRecoveryCode"}
	for _, name := range methods {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fs := &flakyStore{Store: memstore.NewMFAStore(), fail: map[string]bool{}}
			clk := newClock(t0)
			sent := &captureSender{}
			sealer := newSealer(t)
			m := mustNew(t, fs, sealer, mfa.Config{Now: clk.Now, Sender: sent, QRCodeSize: 64})

			// Set up while healthy: a confirmed factor for alice, a
			// pending one for bob, an emailed code and recovery codes.
			ea, err := m.EnrollTOTP(ctx, "alice", "alice")
			require.NoError(t, err)
			require.NoError(t, m.ConfirmTOTP(ctx, "alice", codeAt(t, ea, clk.Now())))
			eb, err := m.EnrollTOTP(ctx, "bob", "bob")
			require.NoError(t, err)
			require.NoError(t, m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
			codes, err := m.GenerateRecoveryCodes(ctx, "alice")
			require.NoError(t, err)
			clk.Add(5 * time.Minute)

			switch name {
			case "ALL":
				fs.fail = nil
			case "SEALER":
				m = mustNew(t, fs, failingSealer{sealer}, mfa.Config{Now: clk.Now, Sender: sent, QRCodeSize: 64})
			default:
				fs.fail[name] = true
			}
			uses := func(path ...string) bool {
				for _, p := range append(path, "ALL") {
					if p == name {
						return true
					}
				}
				return false
			}
			totpPath := []string{"SEALER", "GetTOTP", "AddCount", "MarkStep", "ResetCount"}
			if uses(totpPath...) {
				require.Error(t, m.VerifyTOTP(ctx, "alice", codeAt(t, ea, clk.Now())), "VerifyTOTP")
			}
			if uses(append(totpPath, "ConfirmTOTP")...) {
				require.Error(t, m.ConfirmTOTP(ctx, "bob", codeAt(t, eb, clk.Now())), "ConfirmTOTP")
			}
			if uses("GetOOB", "AddCount", "DeleteOOB", "ResetCount") {
				require.Error(t, m.VerifyCode(ctx, "alice", mfa.PurposeLogin, sent.lastCode(t)), "VerifyCode")
			}
			if uses("UseRecoveryCode") {
				_, err := m.UseRecoveryCode(ctx, "alice", codes[0])
				require.Error(t, err, "UseRecoveryCode")
			}
			if uses() {
				_, err := m.EnrollTOTP(ctx, "carol", "carol")
				require.Error(t, err, "EnrollTOTP")
				require.Error(t, m.SendCode(ctx, "carol", "c@example.com", mfa.PurposeLogin), "SendCode")
				_, err = m.GenerateRecoveryCodes(ctx, "carol")
				require.Error(t, err, "GenerateRecoveryCodes")
				_, err = m.Status(ctx, "alice")
				require.Error(t, err, "Status")
				require.Error(t, m.Remove(ctx, "alice", mfa.FactorTOTP), "Remove TOTP")
				require.Error(t, m.Remove(ctx, "alice", mfa.FactorRecovery), "Remove recovery")
			}
		})
	}
}

// shortSecretSealer opens every record to a short secret, as a buggy or
// misconfigured Sealer (or a record sealed by something else) might.
type shortSecretSealer struct {
	mfa.Sealer
	secret []byte
}

func (s shortSecretSealer) Open(context.Context, []byte, []byte) ([]byte, error) {
	return append([]byte(nil), s.secret...), nil
}

// TestShortSecretNeverVerifies: a TOTP record whose secret opens to fewer
// than 160 bits is malformed and denies. With an empty secret anyone can
// compute the codes (HMAC under an empty key).
func TestShortSecretNeverVerifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, secret := range [][]byte{nil, []byte("short")} {
		f, _ := enrolled(t, mfa.Config{})
		m := mustNew(t, f.store, shortSecretSealer{newSealer(t), secret}, mfa.Config{Now: f.clock.Now})
		code, err := mfa.Code(secret, mfa.SHA1, 6, 30*time.Second, f.clock.Now())
		require.NoError(t, err)
		err = m.VerifyTOTP(ctx, "alice", code)
		require.Error(t, err, "secret %q", secret)
		require.NotErrorIs(t, err, mfa.ErrReplay)
	}
}
