package main

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	in := `{"Action":"output","Package":"p/compat","Output":"needs: skipped 3 tests: node not found: install nodejs\n"}
{"Action":"pass","Package":"p/compat","Elapsed":1.5}
{"Action":"output","Package":"p/a","Test":"TestX","Output":"    x_test.go:9: boom\n"}
{"Action":"fail","Package":"p/a","Test":"TestX"}
{"Action":"output","Package":"p/a","Test":"TestY","Output":"quiet\n"}
{"Action":"pass","Package":"p/a","Test":"TestY"}
{"Action":"fail","Package":"p/a","Elapsed":0.2}
`
	var b strings.Builder
	failed, err := report(strings.NewReader(in), &b)
	if err != nil || !failed {
		t.Fatalf("report = %v, %v; want a failure", failed, err)
	}
	want := "p/compat: needs: skipped 3 tests: node not found: install nodejs\nok  \tp/compat\t1.500s\n    x_test.go:9: boom\nFAIL\tp/a\t0.200s\n"
	if b.String() != want {
		t.Errorf("report wrote\n%s\nwant\n%s", b.String(), want)
	}
}
