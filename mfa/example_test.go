package mfa_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func Example() {
	ctx := context.Background()
	m, err := mfa.New(memstore.NewMFAStore(), mfatest.NewSealer() /* stands in for keyring.Keyring */, mfa.Config{Issuer: "Acme"})
	if err != nil {
		panic(err)
	}

	// Enrollment: show e.QRCodePNG (or e.Secret) to the user...
	e, err := m.EnrollTOTP(ctx, "user-42", "alice@example.com")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.SplitN(e.URI, "?", 2)[0])

	// ...who confirms with the code the app shows.
	k, _ := mfa.ParseKeyURI(e.URI)
	code, _ := mfatest.Code(k.Secret, k.Algorithm, k.Digits, k.Period, time.Now()) // what the app shows
	fmt.Println("confirm:", m.ConfirmTOTP(ctx, "user-42", code))

	// The same code again is a replay, even inside its window.
	fmt.Println("again:", m.VerifyTOTP(ctx, "user-42", code))

	// Recovery codes: shown once, each works once.
	codes, _ := m.GenerateRecoveryCodes(ctx, "user-42")
	left, err := m.UseRecoveryCode(ctx, "user-42", codes[0])
	fmt.Println("recovery:", left, err)
	// Output:
	// otpauth://totp/Acme:alice@example.com
	// confirm: <nil>
	// again: mfa: code already used
	// recovery: 9 <nil>
}

func ExampleManager_SendCode() {
	ctx := context.Background()
	m, err := mfa.New(memstore.NewMFAStore(), mfatest.NewSealer(), mfa.Config{
		Sender: &mfa.ConsoleSender{W: os.Stdout}, // development only: prints the code
		Rand:   strings.NewReader(strings.Repeat("\x00\x01\x02\x03", 16)),
		Now:    func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	if err := m.SendCode(ctx, "user-42", "alice@example.com", mfa.PurposeLogin); err != nil {
		panic(err)
	}
	fmt.Println(m.VerifyCode(ctx, "user-42", mfa.PurposeLogin, "000000"))
	fmt.Println(m.VerifyCode(ctx, "user-42", mfa.PurposeLogin, "066051"))
	// Output:
	// mfa: code for "user-42" (login), to "alice@example.com": 066051, valid until 2026-01-02T03:14:05Z
	// mfa: invalid code
	// <nil>
}
