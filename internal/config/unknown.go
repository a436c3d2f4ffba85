package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// hints explain unknown keys people are likely to try.
var hints = map[string]string{
	"api.api_key":             "secrets are not read from this file; set " + EnvAPIKey + " or api.api_key_file",
	"api.key":                 "secrets are not read from this file; set " + EnvAPIKey + " or api.api_key_file",
	"receiver.secret":         "secrets are not read from this file; set " + EnvWebhookSecret + " or receiver.secret_file",
	"receiver.secrets":        "secrets are not read from this file; set " + EnvWebhookSecret + " or receiver.secret_files",
	"receiver.webhook_secret": "secrets are not read from this file; set " + EnvWebhookSecret + " or receiver.secret_file",
	"sources":                 "did you mean [[source]]?",
}

// reportUnknown adds an ErrUnknownKey problem for each key no field claimed.
// Keys inside [[source]] tables are named with their index, found in tree.
// Keys below an unknown table are not reported again.
func reportUnknown(undecoded []toml.Key, tree map[string]any, p *problems) {
	done := map[string]bool{}
	for _, k := range undecoded {
		if underDone(k, done) {
			continue
		}
		done[k.String()] = true
		for _, name := range unknownNames(k, tree) {
			if p.reported(name) {
				continue
			}
			msg := "unknown key"
			if h, ok := hints[k.String()]; ok {
				msg += ": " + h
			} else if s := suggest(k); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			}
			p.add(ErrUnknownKey, name, "%s", msg)
		}
	}
}

func underDone(k toml.Key, done map[string]bool) bool {
	for j := 1; j < len(k); j++ {
		if done[k[:j].String()] {
			return true
		}
	}
	return false
}

// unknownNames turns "source.nmae" into "source[1].nmae" for every source
// table that has the key.
func unknownNames(k toml.Key, tree map[string]any) []string {
	if len(k) < 2 || k[0] != "source" {
		return []string{k.String()}
	}
	var names []string
	rest := k[1:]
	for i, t := range sourceTables(tree["source"]) {
		if hasKey(t, rest) {
			names = append(names, fmt.Sprintf("source[%d].%s", i, rest.String()))
		}
	}
	if len(names) == 0 {
		return []string{k.String()}
	}
	return names
}

func hasKey(t map[string]any, k toml.Key) bool {
	var v any = t
	for _, part := range k {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// suggest returns the known key closest to an unknown one (a typo such as
// "max_wiat"), or "".
func suggest(k toml.Key) string {
	t := reflect.TypeOf(fileConfig{})
	for _, part := range k[:len(k)-1] {
		f, ok := fieldByTag(t, part)
		if !ok {
			return ""
		}
		if t = f.Type; t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(raw{}) {
			return ""
		}
	}
	last, best, bestDist := k[len(k)-1], "", 3
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("toml")
		if d := editDistance(strings.ToLower(last), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("toml") == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
