package chain

// BackfillStatus tells how a backend looks up the history of newly watched
// scripts (Backend.History) and how far the current or last lookup came.
// Heights are block heights; a scan covers FromHeight..ToHeight inclusive.
type BackfillStatus struct {
	// Method names how history is found: "bip158" (block filters, then
	// the matching blocks), "blocks" (every block read), "addrindex" (the
	// node's address index).
	Method string `json:"method"`
	// Running is true while a History call is scanning.
	Running bool `json:"running"`
	// FromHeight and ToHeight bound the current (or last) scan; Height is
	// the last block it finished.
	FromHeight int32 `json:"from_height"`
	ToHeight   int32 `json:"to_height"`
	Height     int32 `json:"height"`
	// Scans counts History calls served; BlocksRead the full blocks read by
	// them (with bip158, only those whose filter matched).
	Scans      int64 `json:"scans"`
	BlocksRead int64 `json:"blocks_read"`
}

// BackfillReporter is implemented by backends whose History scans the chain
// (the Core JSON-RPC backend); the daemon shows its status in getinfo.
type BackfillReporter interface {
	BackfillStatus() BackfillStatus
}
