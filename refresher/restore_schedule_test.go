package refresher_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ossd/ossd"
	"github.com/ossd/ossd/cache"
	"github.com/ossd/ossd/internal/clock"
	"github.com/ossd/ossd/internal/testenv"
	"github.com/ossd/ossd/refresher"
)

// TestRestoredRenewalsKeepTheirSchedule: 1,000 one-hour tokens of every
// age a running daemon holds, restored at once as after a fleet-wide
// restart, are renewed when a daemon that kept running would have renewed
// them: 34-39 min after their issue (the renewal point, 39 min, and the
// 5 min spread before it), and none at once. Judging the life left as if
// just fetched moved those with under 42 min left to half of it, 3.5 min
// past the point for a 30 min one, and stacked them onto the renewals of
// younger tokens: a wave that overloaded a fleet's account.
func TestRestoredRenewalsKeepTheirSchedule(t *testing.T) {
	clk := clock.NewFake(testenv.Epoch)
	c := cache.New(10)
	ref := refresher.New(refresher.Options{Fetcher: nil, Cache: c, Clock: clk, Seed: 1})
	now, mono := clk.Now(), clk.Mono()
	const lo, hi = 34 * time.Minute, 39 * time.Minute
	var late, early int
	for i := range 1000 {
		age := time.Duration(i) * hi / 1000 // 0 up to the renewal point
		p := ossd.Params{RoleARN: fmt.Sprintf("acs:ram::1234567890123456:role/r%d", i), SessionName: "s", Duration: time.Hour}
		issued := now.Add(-age).Truncate(time.Second)
		creds := ossd.Credentials{AccessKeyID: "STS.a", AccessKeySecret: "s", SecurityToken: ossd.NewToken("t"), LastUpdated: issued, Expiration: issued.Add(time.Hour)}
		if err := ref.Restore(p, creds, true); err != nil {
			t.Fatalf("Restore of a token %v old: %v", age, err)
		}
		e, _ := c.Get(p.Key())
		due, ok := c.Due(e)
		if !ok {
			t.Fatalf("token %v old: not scheduled", age)
		}
		fromIssue := now.Sub(issued) + due - mono
		switch {
		case due <= mono:
			early++
		case fromIssue > hi+time.Second:
			late++
			if late == 1 {
				t.Errorf("a token %v old is renewed %v after its issue, after the renewal point (%v)", age, fromIssue, hi)
			}
		case age < lo && fromIssue < lo-time.Second:
			t.Errorf("a token %v old is renewed %v after its issue, before the spread (%v)", age, fromIssue, lo)
		}
	}
	if early != 0 || late != 0 {
		t.Errorf("of 1,000 restored tokens %d are due at once and %d after the renewal point; want none", early, late)
	}
}
