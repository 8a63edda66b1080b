package chain

import "context"

// WatchHistorian is a Backend that can watch scripts and look up their
// history in one exchange with its node, instead of a Watch round trip
// followed by a History one (what a new wallet's first load does). It is
// optional: callers check for it with a type assertion.
type WatchHistorian interface {
	// WatchHistory has the effect of Watch(ctx, scripts, nil) followed by
	// History(ctx, scripts), with the same guarantee: the node has the
	// scripts in its filter before it looks their history up, so a
	// transaction the history does not hold is notified. On error the
	// scripts may or may not be watched (watching them again is harmless).
	WatchHistory(ctx context.Context, scripts [][]byte) ([]TxInfo, error)
}
