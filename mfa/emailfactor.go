package mfa

import (
	"context"
	"errors"
)

// Emailed codes as a second factor are an enrolment like TOTP: the user
// turns them on (StartEmailFactor mails a code to the address,
// ConfirmEmailFactor checks it) and the [EmailFactorStore] records it.
// Only then do SendLoginCode and VerifyLoginCode work for that user. A
// host therefore cannot let an emailed code stand in for a user's
// authenticator app by mistake: whoever controls the mailbox (for example
// after a password reset, whose link went to the same mailbox) passes as
// the second factor only for users who chose emailed codes themselves.

// StartEmailFactor begins turning on emailed codes for userID: it mails a
// code of purpose [PurposeEmailFactor] to address, which proves the user
// reads that mailbox. The factor is on once [Manager.ConfirmEmailFactor]
// accepts that code. It returns [ErrAlreadyEnrolled] if emailed codes are
// already on, and the errors of [Manager.SendCode]. Callers should
// re-authenticate the user first (ASVS 6.4.4, 7.5.1): with only a session
// and the mailbox, someone could otherwise make the mailbox (which also
// gets reset links) a second factor. The enrolment does not record
// address: [Manager.SendLoginCode] mails whatever address the host passes,
// so pass the one confirmed here, and treat changing it like turning the
// factor on (re-authenticate, confirm the new address).
func (m *Manager) StartEmailFactor(ctx context.Context, userID, address string) error {
	on, err := m.emailFactorOn(ctx, userID)
	if err != nil {
		return err
	}
	if on {
		return ErrAlreadyEnrolled
	}
	if err := m.SendCode(ctx, userID, address, PurposeEmailFactor); err != nil {
		return err
	}
	m.emit(ctx, Event{Type: EventEnrolled, Factor: FactorEmail, UserID: userID})
	return nil
}

// ConfirmEmailFactor turns emailed codes on for userID if code is the one
// [Manager.StartEmailFactor] sent. Its errors are those of
// [Manager.VerifyCode].
func (m *Manager) ConfirmEmailFactor(ctx context.Context, userID, code string) error {
	if err := m.VerifyCode(ctx, userID, PurposeEmailFactor, code); err != nil {
		return err
	}
	now := m.now()
	if err := m.store.EnableEmailFactor(ctx, userID, now); err != nil {
		return storeErr("enable email factor", err)
	}
	m.emit(ctx, Event{Type: EventConfirmed, Factor: FactorEmail, UserID: userID, Time: now})
	return nil
}

// SendLoginCode mails a sign-in code ([PurposeLogin]) to address, only if
// userID turned emailed codes on; otherwise it returns [ErrNotEnrolled]
// and sends nothing. Other errors are those of [Manager.SendCode].
func (m *Manager) SendLoginCode(ctx context.Context, userID, address string) error {
	on, err := m.emailFactorOn(ctx, userID)
	if err != nil {
		return err
	}
	if !on {
		return ErrNotEnrolled
	}
	return m.SendCode(ctx, userID, address, PurposeLogin)
}

// VerifyLoginCode checks an emailed sign-in code ([PurposeLogin]) as a
// second factor. It returns [ErrNotEnrolled], without looking at the code,
// if userID has not turned emailed codes on: a code mailed by
// [Manager.SendCode] then never counts as a second factor. Other errors
// are those of [Manager.VerifyCode].
func (m *Manager) VerifyLoginCode(ctx context.Context, userID, code string) error {
	on, err := m.emailFactorOn(ctx, userID)
	if err != nil {
		return err
	}
	if !on {
		return ErrNotEnrolled
	}
	return m.VerifyCode(ctx, userID, PurposeLogin, code)
}

// emailFactorOn reports whether userID turned emailed codes on. A store
// error is returned (and denies).
func (m *Manager) emailFactorOn(ctx context.Context, userID string) (bool, error) {
	if err := validUserID(userID); err != nil {
		return false, err
	}
	_, err := m.store.EmailFactor(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, storeErr("get email factor", err)
	}
	return true, nil
}
