package mfa_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// fakeSMTP is a tiny SMTP server on 127.0.0.1 that records what it gets.
type fakeSMTP struct {
	addr     string
	startTLS bool
	tls      *tls.Config
	mu       sync.Mutex
	cmds     []string
	data     string
	tlsUsed  bool
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func startFakeSMTP(t *testing.T, offerTLS bool) (*fakeSMTP, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	s := &fakeSMTP{addr: ln.Addr().String(), startTLS: offerTLS, tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, pool
}

func (s *fakeSMTP) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 fake ESMTP")
	secure := false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, line)
		s.mu.Unlock()
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO":
			if s.startTLS && !secure {
				_ = tp.PrintfLine("250-fake\r\n250-8BITMIME\r\n250 STARTTLS")
			} else {
				_ = tp.PrintfLine("250-fake\r\n250 8BITMIME")
			}
		case "STARTTLS":
			_ = tp.PrintfLine("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			tp = textproto.NewConn(tc)
			s.mu.Lock()
			s.tlsUsed = true
			s.mu.Unlock()
		case "MAIL", "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			b, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.data = string(b)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 no")
		}
	}
}

func (s *fakeSMTP) snapshot() ([]string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...), s.data, s.tlsUsed
}

func TestSMTPSenderSTARTTLS(t *testing.T) {
	t.Parallel()
	srv, pool := startFakeSMTP(t, true)
	s := &mfa.SMTPSender{Addr: srv.addr, From: "Acme <no-reply@example.com>", TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Subject: "Votre code ✓"}
	f := newFixture(t, mfa.Config{Sender: s})
	require.NoError(t, f.m.SendCode(context.Background(), "alice", "Alice <alice@example.com>", mfa.PurposeLogin))
	cmds, data, tlsUsed := srv.snapshot()
	require.True(t, tlsUsed)
	require.Equal(t, "STARTTLS", cmds[1])
	require.Contains(t, cmds, "MAIL FROM:<no-reply@example.com> BODY=8BITMIME")
	require.Contains(t, cmds, "RCPT TO:<alice@example.com>")
	require.Contains(t, data, "Subject: =?utf-8?q?Votre_code_=E2=9C=93?=")
	require.Contains(t, data, "To: \"Alice\" <alice@example.com>")
	require.Regexp(t, `Your verification code \(login\) is: [0-9]{6}`, data)
}

func TestSMTPSenderRefusesPlaintext(t *testing.T) {
	t.Parallel()
	srv, pool := startFakeSMTP(t, false)
	s := &mfa.SMTPSender{Addr: srv.addr, From: "no-reply@example.com", TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	err := s.Send(context.Background(), mfa.Message{To: "alice@example.com", Code: "123456", Purpose: mfa.PurposeLogin})
	require.ErrorIs(t, err, mfa.ErrNoSTARTTLS)
	cmds, data, _ := srv.snapshot()
	for _, c := range cmds {
		require.False(t, strings.HasPrefix(c, "MAIL") || strings.HasPrefix(c, "RCPT") || strings.HasPrefix(c, "AUTH"), c)
	}
	require.Empty(t, data)
}

func TestSMTPSenderUntrustedCert(t *testing.T) {
	t.Parallel()
	srv, _ := startFakeSMTP(t, true)
	s := &mfa.SMTPSender{Addr: srv.addr, From: "no-reply@example.com"}
	err := s.Send(context.Background(), mfa.Message{To: "alice@example.com", Code: "123456", Purpose: mfa.PurposeLogin})
	require.ErrorContains(t, err, "STARTTLS")
	_, data, _ := srv.snapshot()
	require.Empty(t, data)
}

func TestSMTPSenderBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := mfa.Message{To: "alice@example.com", Code: "123456"}
	for _, s := range []*mfa.SMTPSender{
		{Addr: "127.0.0.1:1", From: "not an address"},
		{Addr: "no-port", From: "a@example.com"},
	} {
		require.ErrorIs(t, s.Send(ctx, msg), mfa.ErrInvalidInput)
	}
	s := &mfa.SMTPSender{Addr: "127.0.0.1:1", From: "a@example.com"}
	require.ErrorIs(t, s.Send(ctx, mfa.Message{To: "a@example.com\r\nBcc: x@example.com"}), mfa.ErrInvalidInput)
	require.ErrorIs(t, s.Send(ctx, mfa.Message{To: "nope"}), mfa.ErrInvalidInput)
	// Nothing listens on port 1.
	require.Error(t, s.Send(ctx, msg))
}
