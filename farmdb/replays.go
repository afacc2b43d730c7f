package farmdb

import (
	"context"
	"crypto/sha256"
	"time"
)

// HookReplays is hook.ReplayStore on the central database.
type HookReplays struct{ Central *Central }

// First records the signature until expires and tells whether it is new:
// the primary key makes two workers racing on one request agree.
func (h HookReplays) First(ctx context.Context, signature string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(signature))
	// Forget what can no longer be replayed, a little at a time.
	if _, err := h.Central.DB.ExecContext(ctx,
		`DELETE FROM wf_hook_requests WHERE hr_expires < ? LIMIT 100`, Timestamp(time.Now())); err != nil {
		return false, err
	}
	res, err := h.Central.DB.ExecContext(ctx,
		`INSERT IGNORE INTO wf_hook_requests (hr_signature, hr_expires) VALUES (?, ?)`, sum[:], Timestamp(expires))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
