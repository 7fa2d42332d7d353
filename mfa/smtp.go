package mfa

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// errNoSTARTTLS is returned by [SMTPSender.Send] when the server does not
// offer STARTTLS: the code is never sent over a clear connection.
var errNoSTARTTLS = errors.New("mfa: SMTP server does not offer STARTTLS")

// SMTPSender sends codes by email over SMTP with net/smtp. It always
// upgrades the connection with STARTTLS (TLS 1.2 or later, certificate
// verified) before authenticating or sending, and refuses servers that do
// not offer it. It is safe for concurrent use; each Send opens its own
// connection.
type SMTPSender struct {
	// Addr is the server's host:port, usually port 587 (submission).
	Addr string
	// From is the sender address, e.g. "Example <no-reply@example.com>".
	From string
	// Auth, if set, authenticates after STARTTLS (smtp.PlainAuth, ...).
	Auth smtp.Auth
	// TLSConfig, if set, is cloned for STARTTLS; ServerName defaults to
	// Addr's host and MinVersion is raised to TLS 1.2.
	TLSConfig *tls.Config
	// Subject of the message. Default "Your verification code".
	Subject string
	// LocalName is the name sent with EHLO. Default "localhost".
	LocalName string
	// Timeout bounds a whole Send (besides ctx). Default 30 s.
	Timeout time.Duration
}

// Send delivers msg.Code to msg.To.
func (s *SMTPSender) Send(ctx context.Context, msg Message) (err error) {
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("%w: SMTP From address", ErrInvalidInput)
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil || strings.ContainsAny(msg.To, "\r\n") {
		return fmt.Errorf("%w: recipient address", ErrInvalidInput)
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("%w: SMTP address", ErrInvalidInput)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mfa: SMTP dial: %w", err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("mfa: SMTP: %w", err)
	}
	defer func() { _ = c.Close() }()
	local := s.LocalName
	if local == "" {
		local = "localhost"
	}
	if err := c.Hello(local); err != nil {
		return fmt.Errorf("mfa: SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return errNoSTARTTLS
	}
	cfg := &tls.Config{}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if err := c.StartTLS(cfg); err != nil {
		return fmt.Errorf("mfa: SMTP STARTTLS: %w", err)
	}
	if s.Auth != nil {
		if err := c.Auth(s.Auth); err != nil {
			return fmt.Errorf("mfa: SMTP AUTH: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mfa: SMTP MAIL: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("mfa: SMTP RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mfa: SMTP DATA: %w", err)
	}
	if _, err := w.Write(s.message(from, to, msg)); err != nil {
		return fmt.Errorf("mfa: SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mfa: SMTP DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("mfa: SMTP QUIT: %w", err)
	}
	return nil
}

func (s *SMTPSender) message(from, to *mail.Address, msg Message) []byte {
	subject := s.Subject
	if subject == "" || strings.ContainsAny(subject, "\r\n") {
		subject = "Your verification code"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&b, "Your verification code (%s) is: %s\r\n\r\n", msg.Purpose, msg.Code)
	fmt.Fprintf(&b, "It expires at %s UTC and works once.\r\n", msg.ExpiresAt.UTC().Format("2006-01-02 15:04"))
	b.WriteString("If you did not ask for it, ignore this message and do not share the code.\r\n")
	return []byte(b.String())
}
