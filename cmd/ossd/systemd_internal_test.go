package main

import (
	"testing"

	"github.com/ossd/ossd/internal/service"
)

func TestStatusLine(t *testing.T) {
	rs := func(pairs ...string) []service.RoleStatus {
		var out []service.RoleStatus
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, service.RoleStatus{Name: pairs[i], State: pairs[i+1]})
		}
		return out
	}
	tests := []struct {
		name  string
		roles []service.RoleStatus
		want  string
	}{
		{"none", nil, "0 roles"},
		{"one ok", rs("demo", "ok"), "1 role: 1 ok"},
		{"mixed", rs("a", "ok", "b", "failing", "c", "ok", "d", "degraded", "e", "pending"),
			"5 roles: 2 ok, 1 degraded (d), 1 failing (b), 1 pending (e)"},
		{"many failing", rs("a", "failing", "b", "failing", "c", "failing", "d", "failing"),
			"4 roles: 4 failing (a b c …)"},
		{"unknown states sorted", rs("a", "zzz", "b", "new"), "2 roles: 1 new (b), 1 zzz (a)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusLine(tc.roles); got != tc.want {
				t.Errorf("statusLine = %q, want %q", got, tc.want)
			}
		})
	}
}
