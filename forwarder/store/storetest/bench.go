package storetest

import "testing"

// BenchEncoding compares two encodings of one value in two
// sub-benchmarks, allocations reported: encoding_json runs marshal (the
// value through encoding/json), and append runs appendTo (the store's
// encoder) on one buffer of 2 KiB reused from one op to the next,
// appendTo getting it empty and returning it grown.
func BenchEncoding(b *testing.B, marshal func() ([]byte, error), appendTo func(buf []byte) ([]byte, error)) {
	b.Helper()
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			var err error
			if buf, err = appendTo(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
