package sts

import (
	"testing"
	"unsafe"
)

// TestPackSharesOneAllocation: the three strings a session keeps come back
// equal to what STS sent, laid end to end in one allocation.
func TestPackSharesOneAllocation(t *testing.T) {
	id, secret, token := "STS.NUgYrLnoC37mZZCNnAbez2", "D9dTLKbLZmPhW4dDYLEx6ZC7Ht6kAdJyAwuAQp4u", "CAIS9gF1q6Ft5B2yfSjIr5bSEsjHj+tR54SRYnH2uVY7fNQ="
	i, s, k := pack(id, secret, token)
	if i != id || s != secret || k != token {
		t.Fatalf("pack = %q, %q, %q; want the inputs", i, s, k)
	}
	base := unsafe.StringData(i)
	if unsafe.StringData(s) != (*byte)(unsafe.Add(unsafe.Pointer(base), len(i))) ||
		unsafe.StringData(k) != (*byte)(unsafe.Add(unsafe.Pointer(base), len(i)+len(s))) {
		t.Error("the three strings do not share one allocation")
	}
	if unsafe.StringData(i) == unsafe.StringData(id) {
		t.Error("pack returned the input, not a copy")
	}
}
