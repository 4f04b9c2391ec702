package presign_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ossd/ossd/internal/audit"
	"github.com/ossd/ossd/internal/config"
	"github.com/ossd/ossd/internal/logtest"
	"github.com/ossd/ossd/internal/peer"
	"github.com/ossd/ossd/internal/refusal"
	"github.com/ossd/ossd/presign"
)

// TestRefusalFloodGrouped: a caller repeating a refused request, varying
// the key, adds one line, and one summary per interval, to the audit log;
// the URLs it may have are each audited.
func TestRefusalFloodGrouped(t *testing.T) {
	e := newEnv(t, readerPolicy)
	var buf logtest.Buffer
	l := audit.New(&buf, e.Clock)
	rec := refusal.New(refusal.Options{Audit: l, Clock: e.Clock})
	s := presign.New(presign.Options{Credentials: e.Service, Audit: l, Refusals: rec, Clock: e.Clock,
		Roles: func(name string) (config.Role, bool) { r, ok := e.roles[name]; return r, ok }})
	ctx := peer.NewContext(context.Background(), peer.Identity{Known: true, UID: 4343, PID: 9, Via: "socket"})
	for i := range 1000 {
		_, err := s.Presign(ctx, &presign.Request{Role: "reader", Bucket: "forbidden-bucket", Key: fmt.Sprintf("k%d", i)})
		var pe *presign.Error
		if !errors.As(err, &pe) || pe.Code != presign.CodeBucketDenied {
			t.Fatalf("refused request: %v", err)
		}
	}
	for i := range 3 {
		if _, err := s.Presign(ctx, &presign.Request{Role: "reader", Bucket: "my-bucket", Key: fmt.Sprintf("public/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	rec.Flush()
	lines := auditLinesOf(t, &buf)
	if len(lines) != 5 || lines[0]["result"] != presign.CodeBucketDenied || lines[4]["count"] != 999.0 {
		t.Errorf("%d audit lines, want the first refusal, 3 URLs and one summary of 999:\n%s", len(lines), buf.String())
	}
}
