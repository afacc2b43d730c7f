// Package notify tells people what the farm did: email over SMTP to the
// person concerned and a message to a webhook feed for farm staff
// (Discord-compatible JSON: {"content": "..."}).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Notifier sends both kinds of message. An empty SMTPAddress or WebhookURL
// disables that channel.
type Notifier struct {
	SMTPAddress string
	From        string
	Username    string
	Password    string
	WebhookURL  string
	HTTP        *http.Client
	DialTimeout time.Duration
}

// ErrBadAddress is a recipient address that can never work.
var ErrBadAddress = errors.New("invalid email address")

// Email sends a plain-text message to one recipient.
func (n *Notifier) Email(ctx context.Context, to, subject, body string) error {
	if n.SMTPAddress == "" {
		return nil
	}
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrBadAddress, to, err)
	}
	from, err := mail.ParseAddress(n.From)
	if err != nil {
		return fmt.Errorf("notify.smtp.from: %w", err)
	}
	timeout := n.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", n.SMTPAddress)
	if err != nil {
		return fmt.Errorf("SMTP server %s: %w", n.SMTPAddress, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	host, _, _ := net.SplitHostPort(n.SMTPAddress)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return err
		}
	}
	if n.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", n.Username, n.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(addr.Address); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		from.String(), addr.String(), mime.QEncoding.Encode("utf-8", subject),
		time.Now().UTC().Format(time.RFC1123Z), strings.ReplaceAll(body, "\n", "\r\n"))
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// Webhook posts a message to the staff feed.
func (n *Notifier) Webhook(ctx context.Context, content string) error {
	if n.WebhookURL == "" {
		return nil
	}
	if len(content) > 2000 { // Discord's limit for content
		content = content[:1997] + "..."
	}
	body, _ := json.Marshal(map[string]string{"content": content})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := n.HTTP
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL often carries a token: report the cause without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("webhook answered HTTP %d: %s", resp.StatusCode, b)
	}
	return nil
}
