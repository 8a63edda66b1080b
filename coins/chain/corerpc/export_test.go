package corerpc

import "testing"

// TestPublisher exposes the in-test ZMTP publisher to the external tests.
type TestPublisher = testPublisher

// NewTestPublisher starts one, closed when t ends.
func NewTestPublisher(t testing.TB) *TestPublisher { return newTestPublisher(t) }
