package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// devMailer is the development mail sender: each message goes to the
// console and to the mailbox page (/dev/mailbox). It satisfies mfa.Sender
// for emailed codes. A real deployment plugs in mfa.SMTPSender or its own
// provider; codes must never reach logs there.
type devMailer struct {
	mu   sync.Mutex
	w    io.Writer
	now  func() time.Time
	msgs []mail
}

type mail struct {
	Time        time.Time
	To, Subject string
	Body        string
}

const mailboxSize = 100

func newDevMailer(w io.Writer, now func() time.Time) *devMailer { return &devMailer{w: w, now: now} }

func (m *devMailer) send(to, subject, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := mail{Time: m.now(), To: to, Subject: subject, Body: body}
	m.msgs = append(m.msgs, msg)
	if len(m.msgs) > mailboxSize {
		m.msgs = m.msgs[len(m.msgs)-mailboxSize:]
	}
	_, _ = fmt.Fprintf(m.w, "dev mail to %s: %s: %s\n", to, subject, body)
}

// Send delivers an emailed one-time code (mfa.Sender).
func (m *devMailer) Send(_ context.Context, msg mfa.Message) error {
	subject := "Your sign-in code"
	if msg.Purpose == mfa.PurposeEmailFactor {
		subject = "Confirm emailed codes"
	}
	m.send(msg.To, subject, fmt.Sprintf("Your code is %s. It expires at %s.", msg.Code, msg.ExpiresAt.UTC().Format(time.TimeOnly)))
	return nil
}

// messages returns the mailbox, newest first.
func (m *devMailer) messages() []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.msgs)
	slices.Reverse(out)
	return out
}

func (a *App) mailboxPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	a.render(w, r, http.StatusOK, "mailbox", view{Title: "Development mailbox", Data: a.mail.messages()})
}
