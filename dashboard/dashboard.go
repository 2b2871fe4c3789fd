package dashboard

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/readmodel"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Dashboard serves the pages.
type Dashboard struct {
	Model  *readmodel.Model
	Tokens *api.Tokens
	Bus    actions.Bus
	// Version returns a number that changes whenever the read model
	// does (the projector's position in the stream): the pages listening
	// to /events reload their content when it moves.
	Version func(ctx context.Context) (uint64, error)
	// Poll is how often Version is read for /events; 0 is 500ms.
	Poll time.Duration

	pages map[string]*template.Template
}

// view is what every template gets.
type view struct {
	Token     api.Token
	CanDeploy bool
	CSRF      string
	Title     string
	Data      any
}

// Handler returns the dashboard's routes.
func (d *Dashboard) Handler() (http.Handler, error) {
	if err := d.parse(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", d.login)
	mux.HandleFunc("POST /login", d.login)
	mux.HandleFunc("POST /logout", d.post(false, func(w http.ResponseWriter, r *http.Request, _ view) { d.logout(w, r) }))
	mux.HandleFunc("GET /{$}", d.page(d.overview))
	mux.HandleFunc("GET /repos/{owner}/{name}/commits/{sha}", d.page(d.commit))
	mux.HandleFunc("GET /repos/{owner}/{name}/envs/{env}", d.page(d.env))
	mux.HandleFunc("GET /repos/{owner}/{name}/envs/{env}/rollback", d.page(d.confirmRollback))
	mux.HandleFunc("POST /repos/{owner}/{name}/envs/{env}/rollback", d.action(d.rollback))
	mux.HandleFunc("GET /previews", d.page(d.previews))
	mux.HandleFunc("GET /deadletters", d.page(d.deadLetters))
	mux.HandleFunc("POST /deadletters/{seq}/retry", d.action(d.retry))
	mux.HandleFunc("GET /events", d.page(d.events))
	return secureHeaders(mux), nil
}

// secureHeaders adds the headers every page carries: no framing, no
// sniffing, scripts and styles of this origin only.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, name string, v view) {
	t, ok := d.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := t.ExecuteTemplate(w, "layout", v); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("page", name).Msg("dashboard: render")
	}
}

// fail answers a page whose query failed.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	msg := "the query failed; see the server's log"
	if isNotFound(err) {
		code, msg = http.StatusNotFound, err.Error()
	} else {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.URL.Path).Msg("dashboard: query")
	}
	http.Error(w, msg, code)
}

func (d *Dashboard) parse() error {
	funcs := template.FuncMap{"short": actions.Short, "age": age, "digest": shortDigest, "replicas": replicas,
		"target": targetName, "ts": func(t time.Time) string { return t.UTC().Format(time.DateTime) }}
	d.pages = map[string]*template.Template{}
	for _, name := range []string{"login", "overview", "commit", "env", "confirm", "previews", "deadletters"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return err
		}
		d.pages[name] = t
	}
	return nil
}
