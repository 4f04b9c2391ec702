package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestFleetJSON runs a small simulated fleet through the command line and
// checks the JSON carries the fields the issue asks for, with values that
// agree with each other.
func TestFleetJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"fleet", "--hosts", "60", "--roles", "3", "--limit", "1", "--run", "20m", "--reboot", "--json"}
	if err := run(t.Context(), args, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("ossd-bench %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	for _, k := range []string{"max_attempts_per_second", "max_accepted_per_second", "throttled", "expired_served",
		"below_hard_minimum_served", "all_ready_seconds", "median_host_ready_seconds", "wall_seconds"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("%s = %v, want a number", k, got[k])
		}
	}
	if got["event"] != "reboot" || got["hosts"] != 60.0 {
		t.Errorf("event %v, hosts %v; want reboot, 60", got["event"], got["hosts"])
	}
	if a := got["max_accepted_per_second"]; a != 1.0 {
		t.Errorf("max_accepted_per_second = %v at a limit of 1", a)
	}
	if r := got["all_ready_seconds"].(float64); r < 180 {
		t.Errorf("all_ready_seconds = %v: 180 calls at 1 a second cannot be done sooner", r)
	}
}

func TestFleetFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{
		{"fleet", "--restart", "--reboot"},
		{"fleet", "extra"},
		{"fleet", "--hosts", "0"}, // would be the default fleet inside internal/fleet
		{"fleet", "--run", "0s"},
		{"fleet", "--at", "2h"}, // after the run
	} {
		err := run(t.Context(), args, strings.NewReader(""), &out, &errOut)
		if err == nil {
			t.Errorf("ossd-bench %s: no error", strings.Join(args, " "))
		}
	}
}
