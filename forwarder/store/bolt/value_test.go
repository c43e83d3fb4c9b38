package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/store"
)

// Records as the store writes them: a call, a pending GA4 job, a done job.
const (
	sampleCall    = `{"action":"Webhook","event":"Call.Complete","account_sid":"AC5f1c0d2e9b8a47c3","property_sid":"PR81b2c3d4e5f60718","property_name":"www.harbourplumbing.com.au","property_type":"Site","sid":"CA002d5ecdc34bbf0cd9522cec8a476a7b","start_date":"2026-12-07T18:13:30Z","from":"+61412345678","from_country":"Australia","from_region":"NSW","from_city":"Sydney","to":"+61291234567","to_type":"Dynamic","to_name":"Website - Google Ads","duration":187,"disposition":"ANSWERED","ga_client_id":"1637001344.1796667210"}`
	samplePending = `{"job":{"delivery":{"id":"CA002bbc2b92c970cc2f385e8dd0e9ab08/every-call/rollup","call_sid":"CA002bbc2b92c970cc2f385e8dd0e9ab08","rule":"every-call","destination":"rollup","type":"ga4","call_time":"2026-12-07T18:13:32Z","ga4":{"measurement_id":"G-BENCHROLL1","client_id":"1025993529.1796667212","name":"phone_call","params":{"duration":187,"outcome":"ANSWERED","site":"www.harbourplumbing.com.au"},"time":"2026-12-07T18:13:32Z"}},"attempts":0,"due_at":"2026-12-07T18:13:32.770186908Z"},"state":"pending"}`
	sampleDone    = `{"job":{"delivery":{"id":"CA00036104be3e2cd0aa97fe0942ed81ca/every-call/rollup","call_sid":"CA00036104be3e2cd0aa97fe0942ed81ca","rule":"every-call","destination":"rollup","type":"ga4","call_time":"2026-12-07T18:39:19Z"},"attempts":1,"due_at":"2026-12-07T18:40:19.483375283Z","history":[{"at":"2026-12-07T18:39:19.511343092Z","took":38000000,"result":"delivered"}]},"state":"done","settled":"2026-12-07T18:39:19.511890818Z"}`
)

// TestValueRoundTrip: every JSON document reads back as written; records
// are stored compressed, at well under their JSON's size, and a document
// that does not compress is stored as it is.
func TestValueRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		json string
		// maxShare is the largest stored size allowed, as a share of
		// the JSON's.
		maxShare float64
		raw      bool
	}{
		{name: "call", json: sampleCall, maxShare: 0.6},
		{name: "pending job", json: samplePending, maxShare: 0.5},
		{name: "done job", json: sampleDone, maxShare: 0.45},
		{name: "empty object", json: `{}`, maxShare: 1, raw: true},
		{name: "incompressible", json: `{"k":"` + hex.EncodeToString(sha256.New().Sum([]byte("x"))) + `"}`, maxShare: 1, raw: true},
		{name: "large", json: `{"k":"` + strings.Repeat("0123456789", 100000) + `"}`, maxShare: 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := encodeValue([]byte(tt.json))
			if got := v[0] == '{'; got != tt.raw {
				t.Errorf("stored as JSON = %v, want %v (% x...)", got, tt.raw, v[:min(len(v), 8)])
			}
			if share := float64(len(v)) / float64(len(tt.json)); share > tt.maxShare {
				t.Errorf("stored %d bytes of %d JSON (%.2f), want at most %.2f", len(v), len(tt.json), share, tt.maxShare)
			}
			got, err := decodeValue(v)
			if err != nil || string(got) != tt.json {
				t.Fatalf("decodeValue(encodeValue(%.40q...)) = %.40q..., %v", tt.json, got, err)
			}
		})
	}
}

// TestValueLegacyJSON: a value written by an earlier release, plain JSON,
// reads as it is, and no value reads as nothing.
func TestValueLegacyJSON(t *testing.T) {
	for _, v := range []string{sampleCall, samplePending, sampleDone, `{}`, `{"job":null}`} {
		got, err := decodeValue([]byte(v))
		if err != nil || string(got) != v {
			t.Errorf("decodeValue(%.40q...) = %.40q..., %v; want it unchanged", v, got, err)
		}
	}
	if got, err := decodeValue(nil); got != nil || err != nil {
		t.Errorf("decodeValue(nil) = %q, %v; want nil, nil", got, err)
	}
}

// TestValueUnreadable: a value of an unknown format or dictionary, or a
// damaged one, is an error, not a panic nor a huge allocation.
func TestValueUnreadable(t *testing.T) {
	good := encodeValue([]byte(sampleDone))
	tests := []struct {
		name string
		v    []byte
	}{
		{"unknown format", []byte{0x02, dictRecords1, 0x00}},
		{"text that is not JSON", []byte("hello")},
		{"header only", []byte{valueS2}},
		{"unknown dictionary", append([]byte{valueS2, 0xee}, good[valueHeader:]...)},
		{"no block", []byte{valueS2, dictRecords1}},
		{"truncated block", good[:len(good)/2]},
		{"huge length claimed", []byte{valueS2, dictRecords1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}},
		{"damaged block", append(append([]byte{}, good[:valueHeader+1]...), bytes.Repeat([]byte{0xff}, 20)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeValue(tt.v)
			if !errors.Is(err, errValue) {
				t.Errorf("decodeValue(% x) = %.40q, %v; want an error wrapping %v", tt.v, got, err, errValue)
			}
		})
	}
}

// TestDictionariesFixed: a dictionary values were written with never
// changes: its text, its first match, and what a value written with it
// by this release reads as.
func TestDictionariesFixed(t *testing.T) {
	sum := sha256.Sum256([]byte(dictRecords1Text))
	if got, want := hex.EncodeToString(sum[:]), "b72518580be6762e75c75ed838382548eeb326b12c8e784bbb03ba69371a7324"; got != want {
		t.Errorf("dictionary %d changed: SHA-256 %s, want %s; add a new dictionary instead", dictRecords1, got, want)
	}
	if want := strings.LastIndex(dictRecords1Text, `{"job":{"delivery":{"id":"`); dictRecords1Start != want {
		t.Errorf("dictRecords1Start = %d, want %d", dictRecords1Start, want)
	}
	// Written by this release (encodeValue of sampleDone): it must read
	// the same whatever release of the compressor reads it.
	const written = "0101a703150014c430303033363130346265336532636430616139376665303934326564383163612f65766572792d63616c6c2f726f6c6c7570313831707e42003990194b429a01155b76a0013431322d30375431383a33393a31397ea001152e3834303a31392e34383333373532383366a0011532043339010020353131333433303932010030746f6f6b223a33383030303030e2a701466200203839303831385a227d"
	v, err := hex.DecodeString(written)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeValue(v)
	if err != nil || string(got) != sampleDone {
		t.Errorf("decodeValue(a value of dictionary %d) = %q, %v; want %q", dictRecords1, got, err, sampleDone)
	}
}

// FuzzValue: any JSON document reads back as written, and no stored
// value makes a read panic.
func FuzzValue(f *testing.F) {
	for _, s := range []string{sampleCall, samplePending, sampleDone, `{}`, "\x01\x01", "\x01\x02abc", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeValue(b)
		doc := append([]byte{'{'}, b...)
		got, err := decodeValue(encodeValue(doc))
		if err != nil || !bytes.Equal(got, doc) {
			t.Fatalf("decodeValue(encodeValue(%q)) = %q, %v", doc, got, err)
		}
	})
}

// BenchmarkValue measures encodeValue and decodeValue on the records the
// store writes most, and reports the bytes stored of each; done-job is
// the done record as the store writes and reads it (encodeJob, decodeJob:
// compact).
func BenchmarkValue(b *testing.B) {
	for _, s := range []struct{ name, json string }{{"call", sampleCall}, {"pending", samplePending}, {"done", sampleDone}} {
		v := encodeValue([]byte(s.json))
		b.Run(s.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v = encodeValue([]byte(s.json))
			}
			b.ReportMetric(float64(len(s.json)), "json-B")
			b.ReportMetric(float64(len(v)), "stored-B")
		})
		b.Run(s.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeValue(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	key := []byte("CA00036104be3e2cd0aa97fe0942ed81ca/every-call/rollup")
	v := encodeJob(key, store.JobDone, []byte(sampleDone))
	b.Run("done-job/encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v = encodeJob(key, store.JobDone, []byte(sampleDone))
		}
		b.ReportMetric(float64(len(sampleDone)), "json-B")
		b.ReportMetric(float64(len(v)), "stored-B")
	})
	b.Run("done-job/decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, err := decodeJob(nil, key, v); err != nil || len(got) != len(sampleDone) {
				b.Fatal(string(got), err)
			}
		}
	})
}
