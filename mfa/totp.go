package mfa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA-1 is RFC 6238's default and is not a collision use.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"image/png"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
)

// Algorithm is the HMAC hash of a TOTP factor.
type Algorithm string

// TOTP algorithms (RFC 6238 section 1.2).
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

func (a Algorithm) valid() bool { return a == SHA1 || a == SHA256 || a == SHA512 }

func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	default:
		return sha1.New
	}
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// hotp computes the RFC 4226 value (dynamic truncation, modulo 10^digits)
// for counter with mac, an HMAC keyed with the secret, which must be
// fresh (just created or Reset). It allocates nothing, which keeps a
// verification with skew close to the cost of the HMACs themselves. Its
// output is checked against pquerna/otp and the RFC 6238 vectors in the
// tests.
func hotp(mac hash.Hash, counter uint64, digits int) uint32 {
	var msg [8]byte
	var sumBuf [sha512.Size]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(sumBuf[:0])
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return v % pow10[digits]
}

// code computes the TOTP code for a raw secret at time t, as an
// authenticator app would (mfatest.Code is the public copy for tests and
// tools). digits must be 6 or 8 and period whole seconds of at least 1 s.
func code(secret []byte, alg Algorithm, digits int, period time.Duration, t time.Time) (string, error) {
	if !alg.valid() || (digits != 6 && digits != 8) || period < time.Second || period%time.Second != 0 || t.Unix() < 0 {
		return "", ErrInvalidInput
	}
	step := uint64(t.Unix()) / uint64(period/time.Second)
	v := hotp(hmac.New(alg.hash(), secret), step, digits)
	return fmt.Sprintf("%0*d", digits, v), nil
}

const maxCodeInput = 64

// parseCode parses a numeric code of exactly digits digits. ASCII spaces
// anywhere are ignored (apps display "123 456"); anything else that is
// not a digit makes the code malformed. Inputs longer than 64 bytes are
// refused before they are looked at.
func parseCode(s string, digits int) (uint32, bool) {
	if len(s) > maxCodeInput {
		return 0, false
	}
	var v uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			continue
		case c >= '0' && c <= '9':
			n++
			if n > digits {
				return 0, false
			}
			v = v*10 + uint32(c-'0')
		default:
			return 0, false
		}
	}
	return v, n == digits
}

// Enrollment is what the user needs to add a TOTP factor to an app. It
// holds the secret in clear: show it to the user, never log or store it.
type Enrollment struct {
	// URI is the otpauth:// Key URI (issuer, account, secret, algorithm,
	// digits, period) that authenticator apps read.
	URI string
	// Secret is the base32 secret, for typing in by hand.
	Secret string
	// QRCodePNG is URI as a QR code, a PNG image.
	QRCodePNG []byte
	Algorithm Algorithm
	Digits    int
	Period    time.Duration
	// Expires is when the pending enrollment can no longer be confirmed.
	Expires time.Time
}

// qrCode renders uri as a PNG QR code (with pquerna/otp's renderer, given
// the URI this package built).
func (m *Manager) qrCode(uri string) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("mfa: otpauth URI: %w", err)
	}
	img, err := key.Image(m.cfg.QRCodeSize, m.cfg.QRCodeSize)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	return qr.Bytes(), nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func totpAD(userID string) []byte { return []byte("bulwark/mfa/totp/v1\x00" + userID) }

// EnrollTOTP starts a TOTP enrollment for userID: a fresh secret, sealed
// and stored as pending, replacing an expired pending enrollment. While
// one is pending (EnrollTimeout, 10 minutes by default, from when it
// started) it returns that one again, with the same secret and expiry, so
// that a mistyped code or a reloaded page does not make the app the user
// already scanned stale; wrong codes meanwhile count against MaxAttempts
// like any TOTP code. Whoever can call it meanwhile sees that secret, so
// re-authenticate the user first (ASVS 7.5.1), not just the session. The
// factor is not active until [Manager.ConfirmTOTP]
// sees a valid code. (Two concurrent first calls may each create a
// secret; the later one wins.)
// accountName is what the app shows under the issuer (usually the email
// address). It returns [ErrAlreadyEnrolled] if the user has a confirmed
// TOTP factor. Rendering the QR code takes about 10 ms.
func (m *Manager) EnrollTOTP(ctx context.Context, userID, accountName string) (*Enrollment, error) {
	if err := validUserID(userID); err != nil {
		return nil, err
	}
	if err := validLabel(accountName); err != nil || accountName == "" || accountName[0] == ' ' {
		// A leading space would not survive ParseKeyURI (the Key URI
		// format allows spaces after the label's colon).
		return nil, fmt.Errorf("%w: account name must be printable, non-empty, not start with a space and contain no ':'", ErrInvalidInput)
	}
	now := m.now()
	rec, err := m.store.GetTOTP(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, storeErr("get TOTP", err)
	case !rec.pending():
		return nil, ErrAlreadyEnrolled
	case now.Before(rec.CreatedAt.Add(m.cfg.EnrollTimeout)):
		// Still pending: show the same secret again, so that an app that
		// scanned it stays good after a mistyped code or a reload.
		return m.showPending(ctx, rec, accountName)
	}
	secret := make([]byte, m.cfg.TOTPSecretBytes)
	defer clear(secret)
	if _, err := io.ReadFull(m.cfg.Rand, secret); err != nil {
		return nil, fmt.Errorf("mfa: random secret: %w", err)
	}
	e, err := m.enrollment(KeyURI{Issuer: m.cfg.Issuer, AccountName: accountName, Secret: secret,
		Algorithm: m.cfg.TOTPAlgorithm, Digits: m.cfg.TOTPDigits, Period: m.cfg.TOTPPeriod}, now.Add(m.cfg.EnrollTimeout))
	if err != nil {
		return nil, err
	}
	if err := m.putPending(ctx, userID, secret, m.cfg.TOTPAlgorithm, m.cfg.TOTPDigits, m.cfg.TOTPPeriod, now); err != nil {
		return nil, err
	}
	return e, nil
}

// showPending rebuilds the Enrollment of a live pending record from its
// sealed secret. A record that does not open or has invalid parameters is
// a system failure (it is never replaced silently; it expires).
func (m *Manager) showPending(ctx context.Context, rec TOTPRecord, accountName string) (*Enrollment, error) {
	secret, err := m.sealer.Open(ctx, rec.Secret, totpAD(rec.UserID))
	if err != nil {
		return nil, fmt.Errorf("mfa: open secret: %w", err)
	}
	defer clear(secret)
	k := KeyURI{Issuer: m.cfg.Issuer, AccountName: accountName, Secret: secret, Algorithm: rec.Algorithm, Digits: rec.Digits, Period: rec.Period}
	if validKey(k) != nil {
		return nil, errors.New("mfa: pending TOTP record of user has invalid parameters")
	}
	return m.enrollment(k, rec.CreatedAt.Add(m.cfg.EnrollTimeout))
}

// enrollment renders what the user needs to add key k to an app.
func (m *Manager) enrollment(k KeyURI, expires time.Time) (*Enrollment, error) {
	uri := k.String()
	qr, err := m.qrCode(uri)
	if err != nil {
		return nil, err
	}
	return &Enrollment{
		URI:       uri,
		Secret:    b32.EncodeToString(k.Secret),
		QRCodePNG: qr,
		Algorithm: k.Algorithm,
		Digits:    k.Digits,
		Period:    k.Period,
		Expires:   expires,
	}, nil
}

// ConfirmTOTP activates the user's pending TOTP enrollment if code is
// valid. The code's time step counts as used, so it cannot then be used to
// log in. Errors are those of [Manager.VerifyTOTP], and [ErrNotEnrolled]
// when there is no pending enrollment or it is older than EnrollTimeout.
func (m *Manager) ConfirmTOTP(ctx context.Context, userID, code string) error {
	return m.verifyTOTP(ctx, userID, code, true)
}

// VerifyTOTP checks code against the user's confirmed TOTP factor. It
// returns nil only if the code is valid for the current time step (or one
// within the skew), that step was not accepted before, and the factor is
// not locked. Otherwise it returns [ErrNotEnrolled], [ErrInvalidCode]
// (wrapping a [*LockedError] when this failure locked the factor),
// a [*LockedError] while the factor is locked, [ErrReplay] (also wrapping
// a [*LockedError] when it used the last attempt), or a system
// error: every store or sealer failure denies.
func (m *Manager) VerifyTOTP(ctx context.Context, userID, code string) error {
	return m.verifyTOTP(ctx, userID, code, false)
}

func (m *Manager) verifyTOTP(ctx context.Context, userID, code string, confirm bool) error {
	if err := validUserID(userID); err != nil {
		return err
	}
	now := m.now()
	rec, err := m.store.GetTOTP(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotEnrolled
	case err != nil:
		return storeErr("get TOTP", err)
	case rec.pending() != confirm:
		return ErrNotEnrolled
	case confirm && !now.Before(rec.CreatedAt.Add(m.cfg.EnrollTimeout)):
		return ErrNotEnrolled
	case !rec.Algorithm.valid() || (rec.Digits != 6 && rec.Digits != 8) ||
		rec.Period < time.Second || rec.Period%time.Second != 0 || now.Unix() < 0:
		return fmt.Errorf("mfa: TOTP record of user has invalid parameters")
	}
	a, err := m.takeAttempt(ctx, userID, FactorTOTP, now)
	if err != nil {
		return err
	}
	want, ok := parseCode(code, rec.Digits)
	if !ok {
		return m.failed(ctx, userID, FactorTOTP, "malformed", a, now)
	}
	secret, err := m.sealer.Open(ctx, rec.Secret, totpAD(userID))
	if err != nil {
		return fmt.Errorf("mfa: open secret: %w", err)
	}
	if len(secret) < defaultSecretBytes || len(secret) > maxSecretBytes {
		// Malformed: every enrollment and imported key has 160 to 512 bits,
		// and an empty secret would make the codes anyone's to compute.
		clear(secret)
		return errors.New("mfa: TOTP record of user has an invalid secret")
	}
	period := uint64(rec.Period / time.Second)
	cur := int64(uint64(now.Unix()) / period)
	mac := hmac.New(rec.Algorithm.hash(), secret)
	clear(secret)
	// Current step first, then the nearest ones. Each comparison is
	// constant time; a match returns at once, which reveals only what the
	// success itself reveals (that the code was right), while a wrong code
	// always costs the full window.
	matched, found := int64(0), false
	for i := 0; i <= 2*m.cfg.TOTPSkew; i++ {
		d := int64((i + 1) / 2)
		if i%2 == 1 {
			d = -d
		}
		step := cur + d
		if step < 0 {
			continue
		}
		if i > 0 {
			mac.Reset() // the first HMAC is fresh; Reset costs a state copy
		}
		if subtle.ConstantTimeEq(int32(hotp(mac, uint64(step), rec.Digits)), int32(want)) == 1 {
			matched, found = step, true
			break
		}
	}
	if !found {
		return m.failed(ctx, userID, FactorTOTP, "invalid", a, now)
	}
	keep := time.Duration(2*m.cfg.TOTPSkew+2) * rec.Period
	fresh, err := m.store.MarkStep(ctx, userID, matched, keep)
	if err != nil {
		return storeErr("mark step", err)
	}
	if !fresh {
		m.emit(ctx, Event{Type: EventReplayed, Factor: FactorTOTP, UserID: userID, Remaining: a.remaining, Time: now})
		if !a.lockedUntil.IsZero() {
			// This replay used the last attempt and locked the factor:
			// report the lock as a wrong code's would be, not silently.
			m.emit(ctx, Event{Type: EventLocked, Factor: FactorTOTP, UserID: userID, Reason: "replay", LockedUntil: a.lockedUntil, Time: now})
			return fmt.Errorf("%w (%w)", ErrReplay, &LockedError{Factor: FactorTOTP, Until: a.lockedUntil})
		}
		return ErrReplay
	}
	if confirm {
		if err := m.store.ConfirmTOTP(ctx, userID, rec.ID, now); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrNotEnrolled
			}
			return storeErr("confirm TOTP", err)
		}
	}
	if err := m.succeeded(ctx, userID, FactorTOTP, a); err != nil {
		return err
	}
	typ := EventVerified
	if confirm {
		typ = EventConfirmed
	}
	m.emit(ctx, Event{Type: typ, Factor: FactorTOTP, UserID: userID, Time: now})
	return nil
}

// Status summarizes a user's second factors.
type Status struct {
	TOTP          bool // an authenticator app is on (confirmed with a code)
	TOTPPending   bool // an enrollment awaits its first code (within EnrollTimeout)
	Email         bool // emailed codes turned on ([Manager.ConfirmEmailFactor])
	RecoveryCodes int  // unused recovery codes
}

// Status reports which factors the user has. A pending enrollment past
// EnrollTimeout reads as no TOTP factor at all.
func (m *Manager) Status(ctx context.Context, userID string) (Status, error) {
	if err := validUserID(userID); err != nil {
		return Status{}, err
	}
	var st Status
	rec, err := m.store.GetTOTP(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Status{}, storeErr("get TOTP", err)
	case !rec.pending():
		st.TOTP = true
	case m.now().Before(rec.CreatedAt.Add(m.cfg.EnrollTimeout)):
		st.TOTPPending = true
	}
	if st.Email, err = m.emailFactorOn(ctx, userID); err != nil {
		return Status{}, err
	}
	n, err := m.store.CountRecoveryCodes(ctx, userID)
	if err != nil {
		return Status{}, storeErr("count recovery codes", err)
	}
	st.RecoveryCodes = n
	return st, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)
