package target_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/workflows/target"
)

func TestParse(t *testing.T) {
	file := `# where environments run
target prod-hosts docker ssh://deploy@app1.example.com,ssh://deploy@app2.example.com batch=1

target cluster kubernetes kubeconfig=/etc/slipway/kubeconfig namespace=shop
target swarm swarm ssh://deploy@manager.example.com
allow prod-hosts acme/shop production
allow cluster acme/* staging pr-*
allow swarm *
`
	cfg, err := target.Parse(strings.NewReader(file), "targets.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := target.Config{
		Targets: []target.Spec{
			{Name: "prod-hosts", Kind: "docker", Endpoints: []string{"ssh://deploy@app1.example.com", "ssh://deploy@app2.example.com"}, Options: map[string]string{"batch": "1"}, Source: "targets.conf", Line: 2},
			{Name: "cluster", Kind: "kubernetes", Options: map[string]string{"kubeconfig": "/etc/slipway/kubeconfig", "namespace": "shop"}, Source: "targets.conf", Line: 4},
			{Name: "swarm", Kind: "swarm", Endpoints: []string{"ssh://deploy@manager.example.com"}, Options: map[string]string{}, Source: "targets.conf", Line: 5},
		},
		Rules: []target.Rule{
			{Target: "prod-hosts", Repo: "acme/shop", Envs: []string{"production"}, Source: "targets.conf", Line: 6},
			{Target: "cluster", Repo: "acme/*", Envs: []string{"staging", "pr-*"}, Source: "targets.conf", Line: 7},
			{Target: "swarm", Repo: "*", Envs: []string{}, Source: "targets.conf", Line: 8},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseBadLines(t *testing.T) {
	tests := []struct {
		name, file string
		wantErr    []string
	}{
		{"unknown directive", "target a docker unix:///a.sock\nhost b\n", []string{`targets.conf:2: unknown directive "host"`}},
		{"no kind", "\n\ntarget lonely\n", []string{"targets.conf:3:", "want \"target <name> <kind>"}},
		{"bad name", "target Prod docker unix:///a.sock\n", []string{"targets.conf:1:", `target name "Prod"`}},
		{"bad kind", "target a Docker! unix:///a.sock\n", []string{"targets.conf:1:", `kind "Docker!"`}},
		{"two endpoint lists", "target a docker ssh://a ssh://b\n", []string{"targets.conf:1:", `a second endpoint list "ssh://b"`}},
		{"empty endpoint", "target a docker ssh://a,,ssh://b\n", []string{"targets.conf:1:", "empty endpoint"}},
		{"endpoint twice", "target a docker ssh://a,ssh://a\n", []string{"targets.conf:1:", "endpoint ssh://a given twice"}},
		{"option twice", "target a kubernetes namespace=a namespace=b\n", []string{"targets.conf:1:", "option namespace given twice"}},
		{"allow without repo", "target a docker unix:///a.sock\nallow a\n", []string{"targets.conf:2:", `want "allow <target>`}},
		{"allow bad repo", "allow a acme\n", []string{"targets.conf:1:", `repository "acme"`}},
		{"allow bad env", "allow a acme/shop prod/eu\n", []string{"targets.conf:1:", `environment "prod/eu"`}},
		{"allow bad preview pattern", "allow a acme/shop pr*\n", []string{"targets.conf:1:", `environment "pr*"`}},
		{"every bad line at once", "target\nallow x\n", []string{"targets.conf:1:", "targets.conf:2:"}},
		{"password not shown", "target a docker ssh://deploy:s3cret@a,ssh://deploy:s3cret@a\n", []string{"targets.conf:1:", "endpoint ssh://deploy:xxxxx@a given twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := target.Parse(strings.NewReader(tt.file), "targets.conf")
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", cfg)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name, file string
		wantErr    string
	}{
		{"local is built in", "target local docker unix:///a.sock\n", "t:1: target local is the deployer's own Docker daemon"},
		{"declared twice", "target a docker unix:///a.sock\ntarget a docker unix:///b.sock\n", "t:2: target a declared again (first at t:1)"},
		{"rule of no target", "allow nowhere acme/shop\n", "t:1: allow names target nowhere, which no target line declares"},
		{"one host, two targets", "target a docker unix:///a.sock\ntarget b docker unix:///a.sock\n", "t:2: target b: endpoint unix:///a.sock is target a's too"},
		{"rules of local", "allow local acme/shop\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := target.Parse(strings.NewReader(tt.file), "t")
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"ssh://deploy@app1.example.com":                    "ssh://deploy@app1.example.com",
		"ssh://deploy:s3cret@app1.example.com":             "ssh://deploy:xxxxx@app1.example.com",
		"ssh://deploy:s3cret@a,ssh://deploy:s3cret@b":      "ssh://deploy:xxxxx@a,ssh://deploy:xxxxx@b",
		"unix:///var/run/docker.sock":                      "unix:///var/run/docker.sock",
		"ssh://deploy:s3cret%zz@a":                         "xxxxx@a",
		"kubeconfig=/etc/slipway/kubeconfig":               "kubeconfig=/etc/slipway/kubeconfig",
		"tcp://deploy:s3cret@10.0.0.1:2376,unix:///d.sock": "tcp://deploy:xxxxx@10.0.0.1:2376,unix:///d.sock",
	} {
		if got := target.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuleAllows(t *testing.T) {
	tests := []struct {
		rule      target.Rule
		repo, env string
		want      bool
	}{
		{target.Rule{Repo: "acme/shop", Envs: []string{"production"}}, "acme/shop", "production", true},
		{target.Rule{Repo: "acme/shop", Envs: []string{"production"}}, "acme/shop", "staging", false},
		{target.Rule{Repo: "acme/shop", Envs: []string{"production"}}, "acme/shopping", "production", false},
		{target.Rule{Repo: "acme/shop"}, "acme/shop", "pr-4", true},
		{target.Rule{Repo: "acme/*"}, "acme/blog", "staging", true},
		{target.Rule{Repo: "acme/*"}, "acmes/blog", "staging", false},
		{target.Rule{Repo: "*", Envs: []string{"staging"}}, "any/one", "staging", true},
		{target.Rule{Repo: "*", Envs: []string{"staging"}}, "any/one", "production", false},
		{target.Rule{Repo: "acme/shop", Envs: []string{"pr-*"}}, "acme/shop", "pr-12", true},
		{target.Rule{Repo: "acme/shop", Envs: []string{"pr-*"}}, "acme/shop", "pr-012", false},
		{target.Rule{Repo: "acme/shop", Envs: []string{"pr-*"}}, "acme/shop", "pr-", false},
		{target.Rule{Repo: "acme/shop", Envs: []string{"pr-*"}}, "acme/shop", "pr-x1", false},
		{target.Rule{Repo: "acme/shop", Envs: []string{"pr-*"}}, "acme/shop", "pr", false},
		{target.Rule{Repo: "acme/shop", Envs: []string{"production"}}, "acme/shop", "production-2", false},
	}
	for _, tt := range tests {
		if got := tt.rule.Allows(tt.repo, tt.env); got != tt.want {
			t.Errorf("%+v.Allows(%s, %s) = %v, want %v", tt.rule, tt.repo, tt.env, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("target prod-hosts docker ssh://deploy@app1.example.com,ssh://deploy@app2.example.com\nallow prod-hosts acme/shop production\n")
	f.Add("target cluster kubernetes kubeconfig=/etc/slipway/kubeconfig namespace=shop\n# c\n\nallow cluster * a b\n")
	f.Fuzz(func(t *testing.T, file string) {
		cfg, err := target.Parse(strings.NewReader(file), "f")
		if err != nil {
			return
		}
		for _, s := range cfg.Targets {
			if s.Name == "" || s.Kind == "" || s.Line < 1 {
				t.Errorf("parsed target %+v", s)
			}
		}
	})
}
