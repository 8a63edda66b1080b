package btcdws

// SetHistoryPage changes the searchrawtransactions page size; the returned
// function restores it.
func SetHistoryPage(n int) func() {
	old := historyPage
	historyPage = n
	return func() { historyPage = old }
}

// Searches is the number of searchrawtransactions calls b has sent.
func (b *Backend) Searches() int64 { return b.searches.Load() }
