package bolt

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompressEach: every value given, over several hand-overs, is
// replaced by its stored form, which reads back as the value; nil
// pointers are skipped.
func TestCompressEach(t *testing.T) {
	for _, n := range []int{0, 1, compressChunk, compressChunk + 1, 3*compressChunk + 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want := make([]string, n)
			vs := make([]*[]byte, 0, n+1)
			for i := range n {
				want[i] = strings.Replace(samplePending, "every-call", fmt.Sprintf("rule-%d", i), -1)
				v := []byte(want[i])
				vs = append(vs, &v)
			}
			vs = append(vs, nil)
			compressEach(vs)
			for i, v := range vs[:n] {
				if (*v)[0] == '{' {
					t.Fatalf("value %d is stored as JSON, want compressed", i)
				}
				got, err := decodeValue(*v)
				if err != nil || string(got) != want[i] {
					t.Fatalf("value %d reads back as %.60q..., %v; want %.60q...", i, got, err, want[i])
				}
			}
		})
	}
}

// TestCompressRaisesPanicInCaller: a panic of the work handed to a
// compressor is raised again in the goroutine that handed it over (where
// the request's recovery sees it), and the compressor stays in service.
func TestCompressRaisesPanicInCaller(t *testing.T) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		compress(func() { panic("boom") })
		t.Error("compress returned after a panic")
	}()
	// As many hand-overs as there are compressors, and more: none was
	// lost to the panic.
	for range 8 {
		if v := encodeValue([]byte(sampleCall)); len(v) == 0 || v[0] == '{' {
			t.Fatalf("encodeValue after a panic = %.20q, want a compressed value", v)
		}
	}
}
