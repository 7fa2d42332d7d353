package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// devMailer is the development mail sender. It satisfies mfa.Sender for
// emailed codes. A real deployment plugs in mfa.SMTPSender or its own
// provider instead.
//
// What it does with a message depends on the Config:
//
//   - by default (DevMailbox off) the message is dropped: the console gets
//     one line naming the recipient and the subject, never the body, so no
//     code or reset link reaches a log;
//   - with DevMailbox, the message is kept for /dev/mailbox, where a
//     signed-in user reads the mail sent to their own address, and nobody
//     else's; a signed-out visitor reads nothing;
//   - with InsecureOpenMailbox (loopback only, a banner on every page),
//     anyone who reaches the server reads every message: reset links and
//     emailed sign-in codes included. It exists for trying the signed-out
//     flows on one's own machine.
type devMailer struct {
	mu   sync.Mutex
	w    io.Writer
	now  func() time.Time
	keep bool // DevMailbox or InsecureOpenMailbox
	msgs []mail
}

type mail struct {
	Time        time.Time
	To, Subject string
	Body        string
	// Link is a URL the message asks the reader to open (a reset link),
	// shown as a link in the mailbox.
	Link string
}

const mailboxSize = 100

func newDevMailer(w io.Writer, now func() time.Time, keep bool) *devMailer {
	return &devMailer{w: w, now: now, keep: keep}
}

func (m *devMailer) send(to, subject, body string) { m.sendLink(to, subject, body, "") }

func (m *devMailer) sendLink(to, subject, body, link string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.keep {
		// No secret in a log: the subject only.
		_, _ = fmt.Fprintf(m.w, "mail to %s not sent (development mail is off; see -dev-mail): %s\n", to, subject)
		return
	}
	msg := mail{Time: m.now(), To: to, Subject: subject, Body: body, Link: link}
	m.msgs = append(m.msgs, msg)
	if len(m.msgs) > mailboxSize {
		m.msgs = m.msgs[len(m.msgs)-mailboxSize:]
	}
	_, _ = fmt.Fprintf(m.w, "dev mail to %s: %s (in /dev/mailbox)\n", to, subject)
}

// Send delivers an emailed one-time code (mfa.Sender).
func (m *devMailer) Send(_ context.Context, msg mfa.Message) error {
	subject := "Your sign-in code"
	if msg.Purpose == mfa.PurposeEmailFactor {
		subject = "Confirm emailed codes"
	}
	m.send(msg.To, subject, fmt.Sprintf("Your code is %s. It expires at %s.", msg.Code, msg.ExpiresAt.UTC().Format("15:04:05 UTC")))
	return nil
}

// messages returns the mailbox, newest first: every message when to is
// empty, else those sent to that address. Addresses match as the user
// table matches them (strings.ToLower on both sides), not with
// strings.EqualFold: Unicode case folding maps "ſ" onto "s" and the Kelvin
// sign onto "k", so ſam@example.com, a distinct account, read the reset
// links of sam@example.com.
func (m *devMailer) messages(to string) []mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	to = strings.ToLower(to)
	var out []mail
	for _, msg := range m.msgs {
		if to == "" || strings.ToLower(msg.To) == to {
			out = append(out, msg)
		}
	}
	slices.Reverse(out)
	return out
}

// mailboxPage shows the development mailbox: not at all unless the
// operator turned it on, then only the signed-in user's own mail, or
// everything under InsecureOpenMailbox.
func (a *App) mailboxPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !a.cfg.DevMailbox && !a.cfg.InsecureOpenMailbox {
		http.NotFound(w, r)
		return
	}
	if a.cfg.InsecureOpenMailbox && !loopbackHost(r.Host) {
		// DNS rebinding: a site whose name now points at 127.0.0.1 is
		// same-origin with the demo and would read every reset link.
		http.Error(w, "The open development mailbox answers only on a loopback address (127.0.0.1, [::1] or localhost).", http.StatusMisdirectedRequest)
		return
	}
	var msgs []mail
	switch u, ok := a.currentUser(r); {
	case a.cfg.InsecureOpenMailbox:
		msgs = a.mail.messages("")
	case ok:
		msgs = a.mail.messages(u.Email)
	default:
		a.signinRedirect(w, r)
		return
	}
	a.render(w, r, http.StatusOK, "mailbox", view{Title: "Development mailbox", Data: msgs})
}

// mailReader is who the page that reports a sent message is shown to, for
// [App.mailNotice].
type mailReader int

const (
	readerSelf      mailReader = iota // signed in, the message is theirs
	readerSignedOut                   // not signed in (sign-in, reset)
	readerOther                       // signed in, the message is another user's
)

// mailNotice completes sent ("We sent a code to your email address") with
// where the message can really be read in the mail mode the demo runs in:
// off (nothing delivered), each user's own mailbox once signed in, or the
// insecure open mailbox. The sentence is the same whatever the account's
// state, so it tells nobody whether an address has an account.
func (a *App) mailNotice(sent string, reader mailReader) string {
	switch {
	case a.cfg.InsecureOpenMailbox:
		return sent + " (see the development mailbox)."
	case a.cfg.DevMailbox && reader == readerSelf:
		return sent + " (see your development mailbox)."
	case a.cfg.DevMailbox && reader == readerOther:
		return sent + ". This demo sends no real email: the development mailbox shows the message only to its recipient, signed in."
	case a.cfg.DevMailbox:
		return sent + ". This demo sends no real email, and its development mailbox shows mail only to signed-in users."
	default:
		return sent + ", but development mail is off: the message was only named on the server's console, not delivered (start the demo with -dev-mail to read mail)."
	}
}

// loopbackHost says whether a request's Host (with or without a port)
// names a loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
