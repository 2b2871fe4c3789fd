package gitmirror

import "testing"

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/acme/shop.git", "https://github.com/acme/shop.git"},
		{"https://x-access-token:ghs_abc@github.com/acme/shop.git", "https://github.com/acme/shop.git"},
		{"https://ghp_token@github.com/acme/shop", "https://github.com/acme/shop"},
		{"git@github.com:acme/shop.git", "git@github.com:acme/shop.git"},
		{"file:///tmp/repo", "file:///tmp/repo"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScrub(t *testing.T) {
	const secretURL = "https://oauth2:glpat-0123456789@gitlab.example.com/acme/shop.git"
	tests := []struct{ in, want string }{
		{"fatal: unable to access '" + secretURL + "/': 403",
			"fatal: unable to access 'https://gitlab.example.com/acme/shop.git/': 403"},
		{"remote: token glpat-0123456789 expired", "remote: token xxxxx expired"},
		{"fatal: oauth2:glpat-0123456789@gitlab.example.com refused", "fatal: gitlab.example.com refused"},
		{"nothing secret", "nothing secret"},
	}
	for _, tt := range tests {
		if got := scrub(tt.in, secretURL); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
