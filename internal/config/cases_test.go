package config_test

import (
	"strconv"
	"strings"
)

// parseTests drive TestParse and seed FuzzParse. A case with neither wantErr
// nor field is a valid config; otherwise the error must contain every wantErr string,
// field (when set) must be among its *FieldErrors, and count (when set) is
// the number of *FieldErrors.
var parseTests = []struct {
	name    string
	in      string
	wantErr []string
	field   string
	count   int
}{
	// Valid.
	{name: "minimal", in: ok},
	{name: "two roles", in: withRole("[[role]]\nname = \"w.x-1_2\"\narn = \"acs:ram::1111111111111111:role/w\"\nduration = \"12h\"\n")},
	{name: "access key inline", in: "[source]\ntype = \"access_key\"\naccess_key_id = \"LTAIxx\"\naccess_key_secret = \"s3cr3t\"\n" + sts + role},
	{name: "access key files", in: "[source]\ntype = \"access_key\"\naccess_key_id_file = \"id\"\naccess_key_secret_file = \"/run/secret\"\n" + sts + role},
	{name: "oidc partial", in: "[source]\ntype = \"oidc\"\noidc_token_file = \"/var/run/token\"\n" + sts + role},
	{name: "oidc full", in: "[source]\ntype = \"oidc\"\noidc_provider_arn = \"acs:ram::1111111111111111:oidc-provider/ack-rrsa-c1\"\noidc_role_arn = \"acs:ram::1111111111111111:role/r\"\n" + sts + role},
	{name: "ecs role", in: "[source]\ntype = \"ecs_ram_role\"\nrole_name = \"EcsRole\"\n" + sts + role},
	{name: "durations at bounds", in: src + sts + "timeout = \"60s\"\n[refresh]\nfloor = \"7m30s\"\nhard_minimum = \"181s\"\n" + role + "duration = \"15m\"\n"},
	{name: "max_qps fractional", in: src + sts + "max_qps = 0.5\n" + role},
	{name: "max_qps 100", in: src + sts + "max_qps = 100\n" + role},
	{name: "server settings", in: ok + "[server]\nsocket = \"/run/ossd/ossd.sock\"\nsocket_mode = \"0660\"\nsocket_group = \"ossd\"\nmax_sessions = 1\n"},
	{name: "numeric group", in: ok + "[server]\nsocket_group = \"1001\"\n"},
	{name: "rate per uid", in: ok + "[server]\nrate_per_uid = 0.5\nburst_per_uid = 1\n"},
	{name: "rate per uid at bounds", in: ok + "[server]\nrate_per_uid = 1000000\nburst_per_uid = 1000000\n"},
	{name: "audit optional", in: ok + "[audit]\nrequired = false\n"},
	{name: "metrics role labels", in: ok + "[metrics]\nlisten = \"127.0.0.1:9100\"\nrole_labels = true\n"},
	{name: "endpoint with port", in: src + sts + "endpoint = \"http://127.0.0.1:8080\"\n" + role},
	{name: "endpoint ipv6", in: src + sts + "endpoint = \"https://[::1]:8443\"\n" + role},
	{name: "log json debug", in: ok + "[log]\nlevel = \"debug\"\nformat = \"json\"\n"},
	{name: "policy inline pretty", in: withRole("policy = '''\n{\n  \"Version\": \"1\",\n  \"Statement\": [{\"Effect\": \"Allow\"}]\n}\n'''\n")},
	{name: "policy_file only", in: withRole("policy_file = \"reader.json\"\n")},
	{name: "external id", in: withRole("external_id = \"ab\"\n")},
	{name: "session name charset", in: withRole("session_name = \"a.b@c_d-e\"\n")},

	// Decoding.
	{name: "unknown top-level key", in: "foo = 1\n" + ok, wantErr: []string{`line 1: unknown key "foo"`}},
	{name: "unknown nested key", in: src + sts + "regoin = \"cn-beijing\"\n" + role, wantErr: []string{`line 5: unknown key "sts.regoin"`}},
	{name: "unknown dotted key", in: "sts.regoin = 1\n" + src, wantErr: []string{`line 1: unknown key "sts.regoin"`}},
	{name: "unknown table", in: ok + "[stss]\nregion = \"x\"\n", wantErr: []string{`line 8: unknown table "stss"`}},
	{name: "unknown role key", in: withRole("nmae = \"x\"\n"), wantErr: []string{`line 8: unknown key "role.nmae"`}},
	{name: "unknown keys all reported", in: "a = 1\n" + src + "b = 2\n" + sts + role, wantErr: []string{`line 1: unknown key "a"`, `line 4: unknown key "source.b"`}},
	{name: "syntax error", in: src + "[sts\n", wantErr: []string{"line 3, column"}},
	{name: "duplicate key", in: src + sts + "region = \"x\"\n", wantErr: []string{"line 5, column"}},
	{name: "bad duration string", in: src + sts + "timeout = \"5 seconds\"\n" + role, wantErr: []string{"line 5", "sts.timeout", `invalid duration "5 seconds"`}},
	{name: "bad role duration string", in: withRole("duration = \"1 hour\"\n"), wantErr: []string{"line 8", "role.duration", `"1 hour"`}},
	{name: "wrong type", in: src + sts + "max_qps = \"many\"\n" + role, wantErr: []string{"line 5: sts.max_qps: want a number, not a string"}},

	// Durations.
	{name: "timeout too short", in: src + sts + "timeout = \"500ms\"\n" + role, wantErr: []string{"sts.timeout: 500ms out of range"}, field: "sts.timeout"},
	{name: "timeout too long", in: src + sts + "timeout = \"61s\"\n" + role, field: "sts.timeout", wantErr: []string{"1m1s out of range"}},
	{name: "timeout integer", in: src + sts + "timeout = 5\n" + role, field: "sts.timeout", wantErr: []string{"5ns out of range", "bare number is nanoseconds"}},
	{name: "role duration too short", in: src + sts + "[refresh]\nfloor = \"7m\"\n" + role + "duration = \"14m59s\"\n", field: "role[0].duration", wantErr: []string{"out of range 15m0s..12h0m0s"}},
	{name: "role duration too long", in: withRole("duration = \"12h0m1s\"\n"), field: "role[0].duration", wantErr: []string{"out of range"}},
	{name: "role duration fraction", in: withRole("duration = \"1h0m0.5s\"\n"), field: "role[0].duration", wantErr: []string{"whole number of seconds"}},
	{name: "role duration negative", in: withRole("duration = \"-1h\"\n"), field: "role[0].duration"},
	{name: "role duration under 2x floor", in: withRole("duration = \"31m59s\"\n"), field: "role[0].duration", wantErr: []string{"at least twice refresh.floor (16m0s)"}},
	{name: "role duration 2x floor", in: withRole("duration = \"32m\"\n")},
	{name: "hard_minimum 180s", in: ok + "[refresh]\nhard_minimum = \"180s\"\n", field: "refresh.hard_minimum", wantErr: []string{"more than 3m0s"}, count: 1},
	{name: "hard_minimum 0", in: ok + "[refresh]\nhard_minimum = \"0s\"\n", field: "refresh.hard_minimum"},
	{name: "floor equals hard_minimum", in: ok + "[refresh]\nfloor = \"5m\"\nhard_minimum = \"5m\"\n", field: "refresh.hard_minimum", wantErr: []string{"less than refresh.floor"}},
	{name: "floor below hard_minimum", in: ok + "[refresh]\nfloor = \"4m\"\n", field: "refresh.hard_minimum", count: 1},
	{name: "floor zero", in: ok + "[refresh]\nfloor = \"0s\"\n", field: "refresh.floor"},
	{name: "renewal knobs at bounds", in: ok + "[refresh]\noutage_margin = \"0s\"\nspread = \"0s\"\nstart_spread = \"1h\"\n"},
	{name: "outage_margin leaves room", in: withRole("duration = \"45m\"\n") + "[refresh]\noutage_margin = \"28m59s\"\n"},
	{name: "outage_margin reaches the floor", in: withRole("duration = \"45m\"\n") + "[refresh]\noutage_margin = \"29m\"\n", field: "refresh.outage_margin",
		wantErr: []string{`29m0s plus refresh.floor (16m0s) must be less than the shortest role duration (45m0s of role "reader")`}, count: 1},
	{name: "outage_margin judged by the shortest role", in: ok + "[[role]]\nname = \"short\"\narn = \"acs:ram::1234567890123456:role/s\"\nduration = \"32m\"\n[refresh]\noutage_margin = \"20m\"\n",
		field: "refresh.outage_margin", wantErr: []string{`role "short"`}, count: 1},
	{name: "outage_margin negative", in: ok + "[refresh]\noutage_margin = \"-1s\"\n", field: "refresh.outage_margin", count: 1},
	{name: "spread over half the shortest role", in: withRole("duration = \"40m\"\n") + "[refresh]\nspread = \"20m1s\"\n", field: "refresh.spread", wantErr: []string{"at most half the shortest role duration"}, count: 1},
	{name: "spread over an hour", in: withRole("duration = \"12h\"\n") + "[refresh]\nspread = \"61m\"\n", field: "refresh.spread", wantErr: []string{"out of range 0s..1h0m0s"}, count: 1},
	{name: "start_spread negative", in: ok + "[refresh]\nstart_spread = \"-1m\"\n", field: "refresh.start_spread", count: 1},
	{name: "start_spread over an hour", in: ok + "[refresh]\nstart_spread = \"2h\"\n", field: "refresh.start_spread", count: 1},
	{name: "floor huge", in: ok + "[refresh]\nfloor = \"2000000h\"\n", field: "role[0].duration"},

	// Roles.
	{name: "no roles", in: src + sts, field: "role", wantErr: []string{"at least one [[role]]"}, count: 1},
	{name: "empty role array", in: "role = []\n" + src + sts, field: "role"},
	{name: "malformed ARN", in: src + sts + "[[role]]\nname = \"r\"\narn = \"x\"\n", field: "role[0].arn", wantErr: []string{`role[0].arn: malformed role ARN "x": want acs:ram::<account-id>:role/<name>`}},
	{name: "ARN upper-case prefix", in: src + sts + "[[role]]\nname = \"r\"\narn = \"ACS:ram::1:role/r\"\n", field: "role[0].arn"},
	{name: "ARN short account id", in: src + sts + "[[role]]\nname = \"r\"\narn = \"acs:ram::123:role/r\"\n", field: "role[0].arn"},
	{name: "ARN account id with letters", in: src + sts + "[[role]]\nname = \"r\"\narn = \"acs:ram::12345678901234ab:role/r\"\n", field: "role[0].arn"},
	{name: "ARN empty role name", in: src + sts + "[[role]]\nname = \"r\"\narn = \"acs:ram::1111111111111111:role/\"\n", field: "role[0].arn"},
	{name: "ARN letters in account", in: src + sts + "[[role]]\nname = \"r\"\narn = \"acs:ram::12a:role/r\"\n", field: "role[0].arn"},
	{name: "ARN missing", in: src + sts + "[[role]]\nname = \"r\"\n", field: "role[0].arn"},
	{name: "ARN trailing newline", in: src + sts + "[[role]]\nname = \"r\"\narn = \"acs:ram::1111111111111111:role/r\\n\"\n", field: "role[0].arn"},
	{name: "session name too short", in: withRole("session_name = \"a\"\n"), field: "role[0].session_name", wantErr: []string{"2-64"}},
	{name: "session name space", in: withRole("session_name = \"a b\"\n"), field: "role[0].session_name"},
	{name: "session name too long", in: withRole("session_name = \"" + strings.Repeat("s", 65) + "\"\n"), field: "role[0].session_name"},
	{name: "duplicate role names", in: withRole(role), field: "role[1].name", wantErr: []string{`duplicate role name "reader" (also role[0])`}, count: 1},
	{name: "role name empty", in: src + sts + "[[role]]\narn = \"acs:ram::1111111111111111:role/r\"\n", field: "role[0].name"},
	{name: "role name slash", in: src + sts + "[[role]]\nname = \"a/b\"\narn = \"acs:ram::1111111111111111:role/r\"\n", field: "role[0].name"},

	// Policies.
	{name: "policy bad JSON", in: withRole("policy = '{\"Version\":\"1\",'\n"), field: "role[0].policy", wantErr: []string{"not valid JSON"}},
	{name: "policy not object", in: withRole("policy = '[1]'\n"), field: "role[0].policy", wantErr: []string{"policy is not a JSON object"}},
	{name: "policy wrong version", in: withRole("policy = '{\"Version\":\"2\",\"Statement\":[{}]}'\n"), field: "role[0].policy", wantErr: []string{`"Version": "1"`}},
	{name: "policy numeric version", in: withRole("policy = '{\"Version\":1,\"Statement\":[{}]}'\n"), field: "role[0].policy"},
	{name: "policy no statement", in: withRole("policy = '{\"Version\":\"1\"}'\n"), field: "role[0].policy", wantErr: []string{"Statement"}},
	{name: "policy empty statement", in: withRole("policy = '{\"Version\":\"1\",\"Statement\":[]}'\n"), field: "role[0].policy"},
	{name: "policy null statement", in: withRole("policy = '{\"Version\":\"1\",\"Statement\":[null]}'\n"), field: "role[0].policy"},
	{name: "policy too long", in: withRole("policy = '{\"Version\":\"1\",\"Statement\":[{\"Resource\":\"" + strings.Repeat("x", 2048) + "\"}]}'\n"), field: "role[0].policy", wantErr: []string{"want 1..2048"}},
	{name: "policy and policy_file", in: withRole("policy = '{\"Version\":\"1\",\"Statement\":[{}]}'\npolicy_file = \"p.json\"\n"), field: "role[0].policy", wantErr: []string{"not both"}},
	{name: "external id too short", in: withRole("external_id = \"x\"\n"), field: "role[0].external_id"},
	{name: "external id too long", in: withRole("external_id = \"" + strings.Repeat("e", 1225) + "\"\n"), field: "role[0].external_id", wantErr: []string{"1225 bytes"}},

	// Per-caller sessions and role chaining.
	{name: "session_per uid", in: withRole("session_per = \"uid\"\n")},
	{name: "session_per unit", in: withRole("session_per = \"unit\"\n")},
	{name: "session_per pod", in: withRole("session_per = \"pod\"\n")},
	{name: "session_per role", in: withRole("session_per = \"role\"\n")},
	{name: "session_per unknown", in: withRole("session_per = \"user\"\n"), field: "role[0].session_per", wantErr: []string{`unknown session_per "user": want "role", "uid", "unit" or "pod"`}},
	{name: "session_per upper case", in: withRole("session_per = \"UID\"\n"), field: "role[0].session_per"},
	{name: "chained", in: ok + chained("hub", "reader")},
	{name: "chain of 5", in: chain(5)},
	{name: "chain of 6", in: chain(6), field: "role[6].source_role", wantErr: []string{"chain r6 -> r5 -> r4 -> r3 -> r2 -> r1 -> r0 -> ... has more than 5 source_role links"}},
	{name: "unknown source role", in: ok + chained("hub", "nosuch"), field: "role[1].source_role", wantErr: []string{`unknown role "nosuch" (chain hub -> nosuch)`}, count: 1},
	{name: "unknown deeper", in: ok + chained("a", "b") + chained("b", "gone"), wantErr: []string{`role[1].source_role: unknown role "gone" (chain a -> b -> gone)`, `role[2].source_role: unknown role "gone" (chain b -> gone)`}, count: 2},
	{name: "self cycle", in: ok + chained("a", "a"), field: "role[1].source_role", wantErr: []string{"cycle a -> a"}, count: 1},
	{name: "cycle", in: ok + chained("a", "b") + chained("b", "c") + chained("c", "a"), wantErr: []string{"role[1].source_role: cycle a -> b -> c -> a", "role[3].source_role: cycle c -> a -> b -> c"}, count: 3},
	{name: "cycle below", in: ok + chained("x", "a") + chained("a", "b") + chained("b", "a"), wantErr: []string{"role[1].source_role: cycle x -> a -> b -> a"}, count: 3},
	{name: "chained 1h", in: ok + chained("hub", "reader") + "duration = \"1h\"\n"},
	{name: "chained over 1h", in: ok + chained("hub", "reader") + "duration = \"1h0m1s\"\n", field: "role[1].duration",
		wantErr: []string{`role[1].duration: 1h0m1s is more than 1h0m0s: STS caps a session assumed with another role's credentials (source_role "reader") at 1h0m0s`}, count: 1},
	{name: "chained presign over 1h", in: ok + chained("hub", "reader") + "[role.presign]\nbuckets = [\"b-1\"]\nmax_expires = \"30m\"\nmax_session_duration = \"2h\"\n",
		field: "role[1].presign.max_session_duration", count: 1},
	{name: "unchained 12h", in: withRole("duration = \"12h\"\n")},

	// STS, server, log, source.
	{name: "max_qps 0", in: src + sts + "max_qps = 0\n" + role, field: "sts.max_qps", wantErr: []string{"out of range (0, 100]"}},
	{name: "max_qps 150", in: src + sts + "max_qps = 150\n" + role, field: "sts.max_qps"},
	{name: "max_qps nan", in: src + sts + "max_qps = nan\n" + role, field: "sts.max_qps"},
	{name: "max_qps negative", in: src + sts + "max_qps = -1\n" + role, field: "sts.max_qps"},
	{name: "region missing", in: src + "[sts]\n" + role, field: "sts.region", wantErr: []string{"required"}},
	{name: "region malformed", in: src + "[sts]\nregion = \"evil.com/x\"\n" + role, field: "sts.region"},
	{name: "endpoint with path", in: src + sts + "endpoint = \"https://sts.example.com/v1\"\n" + role, field: "sts.endpoint", wantErr: []string{"path"}},
	{name: "endpoint with query", in: src + sts + "endpoint = \"https://sts.example.com?a=b\"\n" + role, field: "sts.endpoint"},
	{name: "endpoint scheme", in: src + sts + "endpoint = \"ftp://sts.example.com\"\n" + role, field: "sts.endpoint"},
	{name: "endpoint userinfo", in: src + sts + "endpoint = \"https://u:p@sts.example.com\"\n" + role, field: "sts.endpoint"},
	{name: "endpoint no host", in: src + sts + "endpoint = \"https://\"\n" + role, field: "sts.endpoint"},
	{name: "endpoint bad port", in: src + sts + "endpoint = \"https://h:99999\"\n" + role, field: "sts.endpoint"},
	{name: "socket_mode not octal", in: ok + "[server]\nsocket_mode = \"rw-------\"\n", field: "server.socket_mode", wantErr: []string{"octal"}},
	{name: "socket_mode world writable", in: ok + "[server]\nsocket_mode = \"0666\"\n", field: "server.socket_mode", wantErr: []string{"any local user"}},
	{name: "socket_mode others write only", in: ok + "[server]\nsocket_mode = \"0602\"\n", field: "server.socket_mode"},
	{name: "socket_mode sticky", in: ok + "[server]\nsocket_mode = \"1600\"\n", field: "server.socket_mode"},
	{name: "socket_mode empty", in: ok + "[server]\nsocket_mode = \"\"\n", field: "server.socket_mode"},
	{name: "socket relative", in: ok + "[server]\nsocket = \"ossd.sock\"\n", field: "server.socket"},
	{name: "socket too long", in: ok + "[server]\nsocket = \"/" + strings.Repeat("d", 120) + "\"\n", field: "server.socket"},
	{name: "socket_group space", in: ok + "[server]\nsocket_group = \"my group\"\n", field: "server.socket_group"},
	{name: "max_sessions 0", in: ok + "[server]\nmax_sessions = 0\n", field: "server.max_sessions"},
	{name: "max_sessions too many", in: ok + "[server]\nmax_sessions = 1000001\n", field: "server.max_sessions"},
	{name: "rate_per_uid 0", in: ok + "[server]\nrate_per_uid = 0\n", field: "server.rate_per_uid", wantErr: []string{"out of range (0, 1000000]"}},
	{name: "rate_per_uid negative", in: ok + "[server]\nrate_per_uid = -1\n", field: "server.rate_per_uid"},
	{name: "rate_per_uid nan", in: ok + "[server]\nrate_per_uid = nan\n", field: "server.rate_per_uid"},
	{name: "rate_per_uid too high", in: ok + "[server]\nrate_per_uid = 1e7\n", field: "server.rate_per_uid"},
	{name: "burst_per_uid 0", in: ok + "[server]\nburst_per_uid = 0\n", field: "server.burst_per_uid", wantErr: []string{"out of range 1..1000000"}},
	{name: "burst_per_uid too high", in: ok + "[server]\nburst_per_uid = 1000001\n", field: "server.burst_per_uid"},
	{name: "audit required not bool", in: ok + "[audit]\nrequired = \"yes\"\n", wantErr: []string{"audit.required"}},
	{name: "log level", in: ok + "[log]\nlevel = \"verbose\"\n", field: "log.level"},
	{name: "log format", in: ok + "[log]\nformat = \"xml\"\n", field: "log.format"},
	{name: "source missing", in: sts + role, field: "source.type", wantErr: []string{"required: one of access_key, ecs_ram_role, oidc, default"}},
	{name: "source unknown type", in: "[source]\ntype = \"env\"\n" + sts + role, field: "source.type", wantErr: []string{`unknown type "env": want one of`}},
	{name: "source unknown", in: "[source]\ntype = \"magic\"\n" + sts + role, field: "source.type", count: 1},
	{name: "source key of other type", in: "[source]\ntype = \"default\"\naccess_key_id = \"LTAI\"\n" + sts + role, field: "source.access_key_id", wantErr: []string{`only valid with type "access_key"`}},
	{name: "oidc bad provider", in: "[source]\ntype = \"oidc\"\noidc_provider_arn = \"acs:ram::1111111111111111:role/x\"\n" + sts + role, field: "source.oidc_provider_arn"},
	{name: "oidc bad role", in: "[source]\ntype = \"oidc\"\noidc_role_arn = \"arn:aws:iam::1:role/x\"\n" + sts + role, field: "source.oidc_role_arn"},
	{name: "ecs bad role name", in: "[source]\ntype = \"ecs_ram_role\"\nrole_name = \"a b\"\n" + sts + role, field: "source.role_name"},

	// Who may have a role.
	{name: "allow everything", in: withRole("[role.allow]\nusers = [\"app\"]\nuids = [1000]\ngroups = [\"ossd\"]\ngids = [1]\nexe = [\"/usr/bin/app\", \"/opt/*/bin/*\"]\ncgroups = [\"/kubepods/**\"]\n")},
	{name: "foreign namespaces with exe", in: withRole("[role.allow]\nexe = [\"/usr/bin/app\"]\nforeign_namespaces = true\n")},
	{name: "foreign namespaces with cgroups", in: withRole("[role.allow]\ncgroups = [\"/a\"]\nforeign_namespaces = true\n")},
	{name: "foreign namespaces alone", in: withRole("[role.allow]\nuids = [1]\nforeign_namespaces = true\n"), field: "role[0].allow.foreign_namespaces", wantErr: []string{"applies only to exe and cgroups"}, count: 1},
	{name: "exe relative", in: withRole("[role.allow]\nexe = [\"app\"]\n"), field: "role[0].allow.exe[0]", wantErr: []string{"not an absolute path"}},
	{name: "exe bad pattern", in: withRole("[role.allow]\nexe = [\"/a/[\"]\n"), field: "role[0].allow.exe[0]", wantErr: []string{"bad pattern"}},

	// Everything at once.
	{
		name: "several problems",
		in: "[source]\ntype = \"magic\"\n[sts]\nmax_qps = 0\n[refresh]\nhard_minimum = \"1m\"\n[server]\nsocket_mode = \"0777\"\n" +
			"[[role]]\nname = \"r\"\narn = \"x\"\nsession_name = \"!\"\n[[role]]\nname = \"r\"\narn = \"acs:ram::1111111111111111:role/r\"\n",
		wantErr: []string{"source.type", "sts.region", "sts.max_qps", "refresh.hard_minimum", "server.socket_mode",
			"role[0].arn", "role[0].session_name", "role[1].name"},
		count: 8,
	},
}

// chained returns a [[role]] called name assumed through source.
func chained(name, source string) string {
	return "[[role]]\nname = \"" + name + "\"\narn = \"acs:ram::2222222222222222:role/" + name + "\"\nsource_role = \"" + source + "\"\n"
}

// chain returns a config whose roles r1..rn each chain to the one before,
// r0 being assumed with the source credential: n links.
func chain(n int) string {
	in := src + sts + "[[role]]\nname = \"r0\"\narn = \"acs:ram::1111111111111111:role/r0\"\n"
	for i := 1; i <= n; i++ {
		in += chained("r"+strconv.Itoa(i), "r"+strconv.Itoa(i-1))
	}
	return in
}
