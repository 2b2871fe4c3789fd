package forgeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Check asks the API, authenticated, who the token belongs to: one cheap
// GET (GitHub /user, Gitea /api/v1/user, GitLab /api/v4/user, Bitbucket
// /2.0/user) that tells a wrong URL, a refused token and an unreachable
// host apart before the first status is posted. It returns the account's
// name; an error says what is wrong, never the token.
func Check(ctx context.Context, c Client) (string, error) {
	var (
		a    *api
		path string
	)
	switch c := c.(type) {
	case *GitHub:
		a, path = c.api, "/user"
	case *Gitea:
		a, path = c.api, "/api/v1/user"
	case *GitLab:
		a, path = c.api, "/api/v4/user"
	case *Bitbucket:
		a, path = c.api, "/2.0/user"
	default:
		return "", fmt.Errorf("%T: %w", c, ErrNoAPI)
	}
	var user struct {
		Login    string `json:"login"`    // GitHub, Gitea
		Username string `json:"username"` // GitLab, Bitbucket
	}
	err := a.call(ctx, http.MethodGet, path, nil, &user)
	var se *statusError
	switch {
	case errors.As(err, &se) && (se.code == http.StatusUnauthorized || se.code == http.StatusForbidden):
		return "", fmt.Errorf("API at %s refused the token (%s): check -forge-token; GET %s answered %q", a.base, se.status, path, se.body)
	case errors.As(err, &se) && se.code == http.StatusNotFound:
		return "", fmt.Errorf("no API at %s (%s): check -forge-api, which takes the host's root (or its API URL); GET %s answered %q", a.base, se.status, path, se.body)
	case err != nil:
		return "", fmt.Errorf("API at %s: %w", a.base, err)
	}
	if user.Login != "" {
		return user.Login, nil
	}
	return user.Username, nil
}
