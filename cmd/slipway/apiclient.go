package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/api"
)

// apiClient is how an operator's command reaches Slipway over its HTTP
// API instead of NATS (-api), with a bearer token from -token-file or
// SLIPWAY_TOKEN: a laptop needs no NATS access.
type apiClient struct {
	URL, TokenFile string
}

// bindAPI binds -api and -token-file to fs.
func bindAPI(fs *flag.FlagSet) *apiClient {
	a := &apiClient{}
	fs.StringVar(&a.URL, "api", "", "base URL of Slipway's HTTP API (e.g. http://127.0.0.1:7070); the command then needs no NATS access")
	fs.StringVar(&a.TokenFile, "token-file", "", "file holding the API token (default: $SLIPWAY_TOKEN)")
	return a
}

// on reports whether the command goes through the API.
func (a *apiClient) on() bool { return a.URL != "" }

func (a *apiClient) token() (string, error) {
	if a.TokenFile != "" {
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := os.Getenv("SLIPWAY_TOKEN"); t != "" {
		return t, nil
	}
	return "", errors.New("-api needs a token: -token-file or SLIPWAY_TOKEN (slipway token create)")
}

// do sends a request to path (under /api/v1) and decodes the answer into
// out; an error answer becomes an error with the API's message.
func (a *apiClient) do(ctx context.Context, method, path string, body, out any) (int, error) {
	tok, err := a.token()
	if err != nil {
		return 0, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.URL, "/")+api.Prefix+path, rd)
	if err != nil {
		return 0, fmt.Errorf("api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 15 * time.Minute}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("api: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("api: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e api.Error
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			if out != nil {
				_ = json.Unmarshal(b, out)
			}
			return resp.StatusCode, fmt.Errorf("api: %s: %s", resp.Status, e.Error)
		}
		if out != nil && json.Unmarshal(b, out) == nil {
			return resp.StatusCode, fmt.Errorf("api: %s", resp.Status)
		}
		return resp.StatusCode, fmt.Errorf("api: %s", resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("api: decode answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// repo returns named, or the only repository the API knows.
func (a *apiClient) repo(ctx context.Context, named string) (string, error) {
	if named != "" {
		if !strings.Contains(named, "/") {
			return "", fmt.Errorf("repository %q: want owner/name", named)
		}
		return named, nil
	}
	var repos []struct {
		Name string `json:"name"`
	}
	if _, err := a.do(ctx, http.MethodGet, "/repos", nil, &repos); err != nil {
		return "", err
	}
	if len(repos) != 1 {
		return "", fmt.Errorf("%d repositories: name one with -repo owner/name: %w", len(repos), errRepoAmbiguous)
	}
	return repos[0].Name, nil
}

// action posts an action and prints its log; a failed deploy is an error.
func (a *apiClient) action(ctx context.Context, path string, body any, out io.Writer) (api.ActionResult, error) {
	var res api.ActionResult
	_, err := a.do(ctx, http.MethodPost, path, body, &res)
	fmt.Fprint(out, res.Log)
	return res, err
}

// envPath is the API path of env of repo.
func envPath(repo, env string) string {
	return "/repos/" + repo + "/envs/" + url.PathEscape(env)
}

// dlqOverAPI is `slipway dlq list|retry` through the API.
func dlqOverAPI(ctx context.Context, a *apiClient, sub string, args []string, out io.Writer) error {
	if sub == "list" {
		var dead []api.DeadLetter
		if _, err := a.do(ctx, http.MethodGet, "/deadletters", nil, &dead); err != nil {
			return err
		}
		for _, d := range dead {
			fmt.Fprintf(out, "%d\t%s\t%s\t%d\t%s\t%s#%d\n", d.Seq, d.At.Local().Format(time.DateTime), d.Consumer, d.Deliveries, d.ID, d.Subject, d.StreamSeq)
		}
		if len(dead) == 0 {
			fmt.Fprintln(out, "(no dead letters)")
		}
		return nil
	}
	if len(args) == 0 {
		return fmt.Errorf("dlq retry: want the sequence of at least one dead letter: %w", flag.ErrHelp)
	}
	for _, s := range args {
		res, err := a.action(ctx, "/deadletters/"+url.PathEscape(s)+"/retry", nil, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: published again as %s\n", s, res.ID)
	}
	return nil
}
