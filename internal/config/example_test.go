package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const examplePath = "../../config.example.toml"

func TestExampleFileLoads(t *testing.T) {
	c, err := Load(examplePath, withSecrets())
	if err != nil {
		t.Fatalf("config.example.toml does not load:\n%v", err)
	}
	// Every value the example shows is the default.
	want := Default()
	want.name = examplePath
	want.API.BaseURL = "https://YOUR_DOMAIN/api/v1"
	want.API.APIKey = NewSecret(testKey)
	want.Receiver.Secrets = []Secret{NewSecret(testSecret1)}
	src := DefaultSource()
	src.Name, src.Path = "inbox", "/srv/invoices/inbox"
	want.Sources = []Source{src}
	c.Report.loc = nil
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("the example's values are not the defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestExampleFileWithEveryOptionalKeyLoads(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	// Uncomment the optional keys shown as "# key = value".
	text := regexp.MustCompile(`(?m)^# ((api_key_file|secret_file|secret_files) = .*)$`).ReplaceAllString(string(b), "$1")
	dir := t.TempDir()
	writeFile(t, dir, "api_key", testKey+"\n")
	writeFile(t, dir, "webhook_secret", testSecret1+"\n")
	writeFile(t, dir, "webhook_secret.next", testSecret2+"\n")
	c, err := Load(writeFile(t, dir, "config.toml", text), env(nil))
	if err != nil {
		t.Fatalf("the example with its optional keys does not load:\n%v", err)
	}
	if c.API.APIKey.Reveal() != testKey || len(c.Receiver.Secrets) != 2 {
		t.Fatalf("secrets not read from the files: key file %q, %d webhook secrets", c.API.APIKeyFile, len(c.Receiver.Secrets))
	}
}

// TestExampleFileDocumentsEveryKey keeps config.example.toml complete: every
// key the schema knows appears in it, set or commented out.
func TestExampleFileDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, key := range schemaKeys(reflect.TypeOf(fileConfig{}), "") {
		table, leaf := "", key
		if i := strings.LastIndex(key, "."); i >= 0 {
			table, leaf = key[:i], key[i+1:]
		}
		header := "[" + table + "]"
		if table == "source" {
			header = "[[source]]"
		}
		section := text
		if table != "" {
			i := strings.Index(text, "\n"+header+"\n")
			if i < 0 {
				t.Errorf("the example has no %s table", header)
				continue
			}
			section = text[i:]
			if j := strings.Index(section[1:], "\n["); j >= 0 {
				section = section[:j+1]
			}
		} else {
			section = text[:strings.Index(text, "\n[")]
		}
		if !regexp.MustCompile(`(?m)^(# )?` + regexp.QuoteMeta(leaf) + ` +=`).MatchString(section) {
			t.Errorf("config.example.toml does not document %s", key)
		}
	}
}

// schemaKeys lists the dotted keys of the file schema.
func schemaKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("toml")
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(raw{}) {
			keys = append(keys, schemaKeys(ft, prefix+name+".")...)
			continue
		}
		keys = append(keys, prefix+name)
	}
	return keys
}
