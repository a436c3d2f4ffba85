package config

import (
	"errors"
	"strings"
	"testing"
)

// leak is a password or key planted in values under test; no error may
// show it.
const leak = "hunter2"

// hardeningCase is one configuration, loaded from a file in a temporary
// directory with the given secret files and environment.
type hardeningCase struct {
	name  string
	in    fragment
	files map[string]string // secret files next to the configuration
	env   map[string]string // nil = withSecrets()
	key   string            // "" = the configuration loads
	msg   string            // a part of the problem's message
	kind  error             // ErrInvalid when nil
}

func runHardening(t *testing.T, tests []hardeningCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
			}
			getenv := withSecrets()
			if tt.env != nil {
				getenv = env(tt.env)
			}
			_, err := Load(writeFile(t, dir, "config.toml", tt.in.text()), getenv)
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want a problem at %s", tt.key)
			}
			assertNoSecret(t, "error", err.Error())
			if strings.Contains(err.Error(), leak) {
				t.Fatalf("error reveals a secret: %v", err)
			}
			kind := tt.kind
			if kind == nil {
				kind = ErrInvalid
			}
			fes := fieldErrors(t, err)
			if len(fes) != 1 || fes[0].Key != tt.key || !strings.Contains(fes[0].Msg, tt.msg) || !errors.Is(fes[0], kind) {
				t.Fatalf("got %v\nwant one problem at %s containing %q (%v)", err, tt.key, tt.msg, kind)
			}
		})
	}
}

const inbox = `path = "/srv/invoices/inbox"`

func TestTheDaemonNeverIngestsItsOwnFiles(t *testing.T) {
	runHardening(t, []hardeningCase{
		{name: "a source inside output_dir is refused",
			in:  fragment{from: inbox, to: `path = "/var/lib/docuparse-ingest/out/csv"`},
			key: "source[0].path", msg: `"/var/lib/docuparse-ingest/out/csv" is inside output_dir ("/var/lib/docuparse-ingest/out")`},
		{name: "a non-recursive source inside output_dir is refused too",
			in:  fragment{from: inbox, to: "path = \"/var/lib/docuparse-ingest/out/csv\"\nrecursive = false"},
			key: "source[0].path", msg: "is inside output_dir"},
		{name: "a source inside state_dir is refused",
			in:  fragment{top: `state_dir = "/data/state"` + "\n" + `output_dir = "/data/out"`, from: inbox, to: `path = "/data/state/inbox"`},
			key: "source[0].path", msg: `"/data/state/inbox" is inside state_dir ("/data/state")`},
		{name: "a source that is output_dir itself is refused",
			in:  fragment{top: `output_dir = "/srv/out"`, from: inbox, to: `path = "/srv/out"`},
			key: "output_dir", msg: `"/srv/out" is inside source[0].path`},
		{name: "a source beside output_dir with a name that extends it is accepted",
			in: fragment{top: `state_dir = "/data/state"` + "\n" + `output_dir = "/data/out"`, from: inbox, to: `path = "/data/out-inbox"`}},
		{name: "move_to inside output_dir is refused",
			in:  fragment{source: "after = \"move\"\nmove_to = \"/var/lib/docuparse-ingest/out/done\""},
			key: "source[0].move_to", msg: `"/var/lib/docuparse-ingest/out/done" is inside output_dir`},
		{name: "move_to equal to state_dir is refused",
			in:  fragment{source: "after = \"move\"\nmove_to = \"/var/lib/docuparse-ingest/\""},
			key: "source[0].move_to", msg: "is inside state_dir"},
		{name: "move_to equal to another source's path is refused",
			in:  fragment{source: "after = \"move\"\nmove_to = \"/srv/other\"", extra: "[[source]]\nname = \"other\"\npath = \"/srv/other\""},
			key: "source[0].move_to", msg: `"/srv/other" is inside source[1].path: moved files would be ingested again`},
		{name: "move_to inside another recursive source's path is refused",
			in:  fragment{source: "after = \"move\"\nmove_to = \"/srv/other/done\"", extra: "[[source]]\nname = \"other\"\npath = \"/srv/other\""},
			key: "source[0].move_to", msg: "is inside source[1].path"},
		{name: "move_to into the folder of an earlier source is refused",
			in:  fragment{extra: "[[source]]\nname = \"other\"\npath = \"/srv/other\"\nafter = \"move\"\nmove_to = \"/srv/invoices/inbox/done\""},
			key: "source[1].move_to", msg: "is inside source[0].path"},
		// Vice versa: the inbox's users write in a source folder and in
		// move_to, so they could rename or replace anything directly in
		// them — recursive or not.
		{name: "state_dir inside a non-recursive source is refused",
			in:  fragment{top: `state_dir = "/srv/invoices/inbox/state"` + "\n" + `output_dir = "/data/out"`, from: inbox, to: inbox + "\nrecursive = false"},
			key: "state_dir", msg: `"/srv/invoices/inbox/state" is inside source[0].path`},
		{name: "output_dir inside move_to is refused",
			in:  fragment{top: `state_dir = "/data/state"` + "\n" + `output_dir = "/srv/done/out"`, source: "after = \"move\"\nmove_to = \"/srv/done\""},
			key: "source[0].move_to", msg: `"/srv/done" holds output_dir ("/srv/done/out")`},
		{name: "state_dir inside move_rejected_to is refused",
			in:  fragment{top: `state_dir = "/srv/rejected/state"` + "\n" + `output_dir = "/data/out"`, source: "after = \"move\"\nmove_to = \"/srv/done\"\nmove_rejected_to = \"/srv/rejected\""},
			key: "source[0].move_rejected_to", msg: "holds state_dir"},
		{name: "move_to below another non-recursive source's path is accepted",
			in: fragment{source: "after = \"move\"\nmove_to = \"/srv/other/done\"", extra: "[[source]]\nname = \"other\"\npath = \"/srv/other\"\nrecursive = false"}},
	})
}

func TestNoErrorShowsACredential(t *testing.T) {
	const baseURL = `base_url = "https://api.example.com/api/v1"`
	base := func(v string) fragment { return fragment{from: baseURL, to: `base_url = "` + v + `"`} }
	runHardening(t, []hardeningCase{
		{name: "a base_url that does not parse is refused without showing its password",
			in: base("https://u:" + leak + "@x y/api"), key: "api.base_url", msg: "is not a valid URL"},
		{name: "a base_url with a password is refused with where the key belongs",
			in: base("https://u:" + leak + "@api.example.com/v1"), key: "api.base_url",
			msg: "credentials do not belong in base_url; use DOCUPARSE_API_KEY"},
		{name: "a base_url with a user name alone is refused too",
			in: base("https://dex_live_" + leak + "@api.example.com/v1"), key: "api.base_url", msg: "credentials do not belong in base_url"},
		{name: "a base_url with a key in its query is refused without showing the query",
			in: base("https://api.example.com/v1?key=" + leak), key: "api.base_url",
			msg: `"https://api.example.com/v1" must not have a query or fragment`},
		{name: "a base_url with a key in its fragment is refused without showing the fragment",
			in: base("https://api.example.com/v1#" + leak), key: "api.base_url", msg: "must not have a query or fragment"},
		{name: "a base_url of another scheme is refused without showing its query",
			in: base("ftp://api.example.com/v1?key=" + leak), key: "api.base_url", msg: `"ftp://api.example.com/v1" must use http or https`},
		{name: "a base_url that reads as an opaque URL is refused without showing it",
			in: base("u:" + leak + "@api.example.com/v1"), key: "api.base_url", msg: "is not an absolute http(s) URL"},
		{name: "a source url that does not parse is refused without showing its password",
			in:  fragment{from: inbox, to: `url = "s3://key:` + leak + `@x y/b"`},
			key: "source[0].url", msg: "is not a valid URL"},
		{name: "a source url without a scheme is refused without showing its user",
			in:  fragment{from: inbox, to: `url = "` + leak + `@bucket/prefix"`},
			key: "source[0].url", msg: "needs a scheme"},
		{name: "an API key pasted as api_key_file is refused without showing it",
			in:  fragment{api: `api_key_file = "dex_live_` + leak + `"`},
			key: "api.api_key_file", msg: "looks like a secret, not a file name"},
		{name: "a webhook secret pasted as secret_file is refused without showing it",
			in:  fragment{top: `receiver.secret_file = "whsec_` + leak + `"`},
			key: "receiver.secret_file", msg: "looks like a secret, not a file name"},
		{name: "a webhook secret pasted into secret_files is refused by its index",
			in:    fragment{top: `receiver.secret_files = ["ws", "whsec_` + leak + `"]`},
			files: map[string]string{"ws": testSecret2},
			key:   "receiver.secret_files[1]", msg: "looks like a secret, not a file name"},
		{name: "a key file whose name starts like a key but sits in a folder is read",
			in:    fragment{api: `api_key_file = "./dex_key"`},
			files: map[string]string{"dex_key": testKey}},
	})
}

func TestReceiverLimits(t *testing.T) {
	runHardening(t, []hardeningCase{
		{name: "a max_body of 50GB is refused",
			in: fragment{top: `receiver.max_body = "50GB"`}, key: "receiver.max_body", msg: "50GB is more than 16MB"},
		{name: "a max_body one byte over 16MB is refused",
			in: fragment{top: `receiver.max_body = 16000001`}, key: "receiver.max_body", msg: "is more than 16MB"},
		{name: "a max_body of 16MB is accepted",
			in: fragment{top: `receiver.max_body = "16MB"`}},
		{name: "a replay window shorter than the API's retries is refused",
			in: fragment{top: `receiver.max_event_age = "12h"`}, key: "receiver.max_event_age", msg: "must be 0 (no replay window) or at least 24h"},
		{name: "a negative replay window is refused",
			in: fragment{top: `receiver.max_event_age = "-1h"`}, key: "receiver.max_event_age", msg: "must be 0"},
		{name: "a replay window of 24h is accepted",
			in: fragment{top: `receiver.max_event_age = "24h"`}},
		{name: "no replay window is accepted",
			in: fragment{top: `receiver.max_event_age = "0s"`}},
		{name: "insecure_skip_verify on every interface is refused",
			in:  fragment{top: "receiver.insecure_skip_verify = true\nreceiver.listen = \":8080\""},
			key: "receiver.insecure_skip_verify", msg: "only allowed with a loopback listen address"},
		{name: "insecure_skip_verify on 0.0.0.0 is refused",
			in:  fragment{top: "receiver.insecure_skip_verify = true\nreceiver.listen = \"0.0.0.0:8080\""},
			key: "receiver.insecure_skip_verify", msg: "only allowed with a loopback listen address"},
		{name: "insecure_skip_verify on a LAN address is refused",
			in:  fragment{top: "receiver.insecure_skip_verify = true\nreceiver.listen = \"192.168.1.10:8080\""},
			key: "receiver.insecure_skip_verify", msg: "only allowed with a loopback listen address"},
		{name: "insecure_skip_verify on IPv6 loopback is accepted",
			in: fragment{top: "receiver.insecure_skip_verify = true\nreceiver.listen = \"[::1]:8080\""}},
		{name: "insecure_skip_verify on localhost is accepted",
			in: fragment{top: "receiver.insecure_skip_verify = true\nreceiver.listen = \"localhost:8080\""}},
		{name: "insecure_skip_verify with the receiver disabled listens nowhere and is accepted",
			in: fragment{top: "receiver.enabled = false\nreceiver.insecure_skip_verify = true\nreceiver.listen = \":8080\""}},
	})
}

func TestTheAPIKeyNeverTravelsInCleartext(t *testing.T) {
	const baseURL = `base_url = "https://api.example.com/api/v1"`
	base := func(v string) fragment { return fragment{from: baseURL, to: `base_url = "` + v + `"`} }
	runHardening(t, []hardeningCase{
		{name: "plain http to a remote host is refused",
			in: base("http://api.example.com/api/v1"), key: "api.base_url",
			msg: "the API key would travel in cleartext; use https"},
		{name: "plain http to a private address is refused",
			in: base("http://10.0.0.5:8081/api/v1"), key: "api.base_url", msg: "use https"},
		{name: "plain http to localhost is accepted",
			in: base("http://localhost:8081/api/v1")},
		{name: "plain http to IPv6 loopback is accepted",
			in: base("http://[::1]:8081/api/v1")},
		{name: "plain http to any 127/8 address is accepted",
			in: base("http://127.0.0.2:8081/api/v1")},
	})
}

const s3Inbox = `url = "s3://acme-ap/inbox/?region=eu-west-1"`

func TestBucketSources(t *testing.T) {
	runHardening(t, []hardeningCase{
		{name: "an s3 source is accepted",
			in: fragment{from: inbox, to: s3Inbox + "\npoll_interval = \"1m\"\nafter = \"move\"\nafter_prefix = \"archive/\""}},
		{name: "gs, azblob, file and mem sources are accepted",
			in: fragment{from: inbox, to: `url = "gs://acme-ap/inbox"` + "\n[[source]]\nname = \"b\"\nurl = \"azblob://ap/in/\"\n" +
				"[[source]]\nname = \"c\"\nurl = \"file:///srv/drop/\"\n[[source]]\nname = \"d\"\nurl = \"mem://t/\""}},
		{name: "credentials in the URL are refused and not shown",
			in:  fragment{from: inbox, to: `url = "s3://AKIA:` + leak + `@acme-ap/inbox/"`},
			key: "source[0].url", msg: "must not contain user credentials"},
		{name: "another scheme is refused",
			in:  fragment{from: inbox, to: `url = "ftp://acme-ap/inbox/"`},
			key: "source[0].url", msg: `has scheme "ftp"`},
		{name: "poll_interval on a folder source is refused",
			in:  fragment{source: `poll_interval = "10s"`},
			key: "source[0].poll_interval", msg: "is for bucket sources"},
		{name: "after_prefix without after = move is refused",
			in:  fragment{from: inbox, to: s3Inbox + "\nafter_prefix = \"archive/\""},
			key: "source[0].after_prefix", msg: `only used when after = "move"`},
		{name: "an after_prefix with a '..' part is refused",
			in:  fragment{from: inbox, to: s3Inbox + "\nafter = \"move\"\nafter_prefix = \"a/../b/\""},
			key: "source[0].after_prefix", msg: "must be a key prefix"},
		{name: "move_to on a bucket source is refused, pointing at after_prefix",
			in:  fragment{from: inbox, to: s3Inbox + "\nafter = \"move\"\nmove_to = \"done/\""},
			key: "source[0].move_to", msg: "set after_prefix"},
		{name: "the same bucket prefix twice is refused, however spelt",
			in:  fragment{from: inbox, to: s3Inbox + "\n[[source]]\nname = \"b\"\nurl = \"s3://acme-ap/inbox?region=eu-west-2\""},
			key: "source[1].url", msg: "watches the same place as source[0]"},
		{name: "a prefix inside a recursive bucket source is refused",
			in:  fragment{from: inbox, to: s3Inbox + "\n[[source]]\nname = \"b\"\nurl = \"s3://acme-ap/inbox/scans/\""},
			key: "source[1].url", msg: "ingested twice"},
		{name: "a file:// bucket inside output_dir is refused like a folder",
			in:  fragment{from: inbox, to: `url = "file:///var/lib/docuparse-ingest/out/csv/"`},
			key: "source[0].url", msg: "is inside output_dir"},
		{name: "a bad output_url is refused",
			in:  fragment{top: `output_url = "s3://u:` + leak + `@bkt/out/"`},
			key: "output_url", msg: "must not contain user credentials"},
		{name: "an output_url is accepted",
			in: fragment{top: `output_url = "s3://acme-results/erp/?region=eu-west-1"`}},
	})
}

func TestSecretsAreWellFormed(t *testing.T) {
	sixteen := "whsec_0123456789" // exactly MinWebhookSecret bytes
	if len(sixteen) != MinWebhookSecret {
		t.Fatalf("fixture is %d bytes", len(sixteen))
	}
	runHardening(t, []hardeningCase{
		{name: "an API key with a space inside is refused naming the variable",
			env: map[string]string{EnvAPIKey: "dex_live_" + leak + " x", EnvWebhookSecret: testSecret1},
			key: "DOCUPARSE_API_KEY", msg: "contains white space or control characters", kind: ErrMissingSecret},
		{name: "an API key with a control character inside is refused",
			env: map[string]string{EnvAPIKey: "dex_live_" + leak + "\x00x", EnvWebhookSecret: testSecret1},
			key: "DOCUPARSE_API_KEY", msg: "contains white space or control characters", kind: ErrMissingSecret},
		{name: "an API key with two lines is refused",
			env: map[string]string{EnvAPIKey: testKey + "\n" + testKey, EnvWebhookSecret: testSecret1},
			key: "DOCUPARSE_API_KEY", msg: "contains white space", kind: ErrMissingSecret},
		{name: "a webhook secret with a control character is refused naming the variable",
			env: map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: "whsec_" + leak + "\x1b0123456789"},
			key: "DOCUPARSE_WEBHOOK_SECRET", msg: "entry 1 contains control characters", kind: ErrMissingSecret},
		{name: "a short webhook secret in the environment is refused",
			env: map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: "whsec_" + leak},
			key: "DOCUPARSE_WEBHOOK_SECRET", msg: "too short to be a webhook secret (at least 16 bytes)", kind: ErrMissingSecret},
		{name: "a short webhook secret beside a good one is still refused",
			env: map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: testSecret1 + ",whsec_" + leak},
			key: "DOCUPARSE_WEBHOOK_SECRET", msg: "too short to be a webhook secret", kind: ErrMissingSecret},
		{name: "a short webhook secret in a secret file is refused naming the key",
			in:    fragment{top: `receiver.secret_file = "ws"`},
			files: map[string]string{"ws": "whsec_" + leak + "\n"}, env: map[string]string{EnvAPIKey: testKey},
			key: "receiver.secret_file", msg: "too short to be a webhook secret", kind: ErrMissingSecret},
		{name: "a secret file line with a tab inside is refused naming the entry",
			in:    fragment{top: `receiver.secret_file = "ws"`},
			files: map[string]string{"ws": testSecret1 + "\nwhsec_" + leak + "\twhsec_" + leak + "\n"}, env: map[string]string{EnvAPIKey: testKey},
			key: "receiver.secret_file", msg: "entry 2 contains control characters", kind: ErrMissingSecret},
		{name: "a webhook secret of exactly 16 bytes is accepted",
			env: map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: sixteen}},
	})
}

func TestReadOnlyCommandsIgnoreBadSecretsLikeMissingOnes(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "config.toml", minimal)
	short := env(map[string]string{EnvAPIKey: "dex a b", EnvWebhookSecret: "whsec_" + leak})
	if _, err := Load(path, short); !errors.Is(err, ErrMissingSecret) {
		t.Fatalf("Load: %v, want ErrMissingSecret", err)
	}
	c, err := LoadWithoutSecrets(path, short)
	if err != nil {
		t.Fatalf("LoadWithoutSecrets: %v", err)
	}
	if !c.API.APIKey.IsZero() || len(c.Receiver.Secrets) != 0 {
		t.Fatalf("bad secrets were kept: key set %v, %d webhook secrets", !c.API.APIKey.IsZero(), len(c.Receiver.Secrets))
	}
}
