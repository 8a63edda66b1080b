package chain

import (
	"context"
	"errors"
	"fmt"
)

// ErrTooMuchHistory is returned (wrapped) by HistoryAtMost when the scripts
// have more transactions than the bound asked for.
var ErrTooMuchHistory = errors.New("chain: more transactions than the bound")

// BoundedHistorian is a Backend that can stop looking up a history once it
// holds more transactions than a bound, so that a lookup of a busy address
// (an exchange's, with millions of transactions) costs the bound, not the
// address's whole history. It is optional: use HistoryAtMost.
type BoundedHistorian interface {
	// HistoryAtMost returns what History(ctx, scripts) returns when that
	// holds at most max transactions, and an error wrapping
	// ErrTooMuchHistory as soon as it has seen more (without fetching
	// the rest).
	HistoryAtMost(ctx context.Context, scripts [][]byte, max int) ([]TxInfo, error)
}

// HistoryAtMost is b's History of scripts if it holds at most max
// transactions (max ≤ 0: no bound), and an error wrapping ErrTooMuchHistory
// otherwise. A BoundedHistorian stops fetching past max; any other backend
// is asked for the whole history and then checked.
func HistoryAtMost(ctx context.Context, b Backend, scripts [][]byte, max int) ([]TxInfo, error) {
	if max <= 0 {
		return b.History(ctx, scripts)
	}
	if bh, ok := b.(BoundedHistorian); ok {
		return bh.HistoryAtMost(ctx, scripts, max)
	}
	hist, err := b.History(ctx, scripts)
	if err != nil {
		return nil, err
	}
	if len(hist) > max {
		return nil, TooMuchHistory(max)
	}
	return hist, nil
}

// TooMuchHistory is the error a BoundedHistorian returns past max.
func TooMuchHistory(max int) error {
	return fmt.Errorf("%w: more than %d transactions", ErrTooMuchHistory, max)
}
