package dashboard

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/release"
)

// overviewRow is one repository of the overview, its environments in
// the order of the header.
type overviewRow struct {
	Repo  string
	Cells []*readmodel.Env
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, v view) {
	repos, err := d.Model.Repos(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	envs, err := d.Model.Envs(r.Context(), "")
	if err != nil {
		d.fail(w, r, err)
		return
	}
	names := []string{}
	byRepo := map[string]map[string]*readmodel.Env{}
	for i, e := range envs {
		if e.Preview {
			continue
		}
		if !slices.Contains(names, e.Env) {
			names = append(names, e.Env)
		}
		if byRepo[e.Repo] == nil {
			byRepo[e.Repo] = map[string]*readmodel.Env{}
		}
		byRepo[e.Repo][e.Env] = &envs[i]
	}
	sort.Slice(names, func(i, j int) bool {
		return envOrder(names[i]) < envOrder(names[j]) || envOrder(names[i]) == envOrder(names[j]) && names[i] < names[j]
	})
	rows := make([]overviewRow, 0, len(repos))
	for _, repo := range repos {
		row := overviewRow{Repo: repo.Name}
		for _, n := range names {
			row.Cells = append(row.Cells, byRepo[repo.Name][n])
		}
		rows = append(rows, row)
	}
	v.Title, v.Data = "Overview", map[string]any{"Envs": names, "Rows": rows}
	d.render(w, r, "overview", v)
}

// envOrder puts the usual environments first, in the order a commit
// travels.
func envOrder(name string) int {
	switch name {
	case "staging":
		return 0
	case "production":
		return 2
	}
	return 1
}

func repoOf(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("name") }

// commitDeploy is a deploy of the commit page, with its environment.
type commitDeploy struct {
	Env string
	release.Deploy
}

func (d *Dashboard) commit(w http.ResponseWriter, r *http.Request, v view) {
	repo, sha := repoOf(r), r.PathValue("sha")
	c, err := d.Model.Commit(r.Context(), repo, sha)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	envs, err := d.Model.Envs(r.Context(), repo)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	var deploys []commitDeploy
	for _, e := range envs {
		last, err := d.Model.LastDeploys(r.Context(), repo, e.Env, 100)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		for _, dep := range last {
			if dep.Commit == sha {
				deploys = append(deploys, commitDeploy{Env: e.Env, Deploy: dep})
			}
		}
	}
	sort.Slice(deploys, func(i, j int) bool { return deploys[i].Time.After(deploys[j].Time) })
	services := make([]string, 0, len(c.Builds))
	for s := range c.Builds {
		services = append(services, s)
	}
	sort.Strings(services)
	builds := make([]*readmodel.Build, 0, len(services))
	for _, s := range services {
		builds = append(builds, c.Builds[s])
	}
	v.Title, v.Data = "Commit "+actions.Short(sha), map[string]any{"Commit": c, "Builds": builds, "Deploys": deploys}
	d.render(w, r, "commit", v)
}

// imageDiff is one service of the diff of two environments.
type imageDiff struct {
	Service      string
	Here, There  string
	HereRef, Ref string
	Same         bool
}

func (d *Dashboard) env(w http.ResponseWriter, r *http.Request, v view) {
	repo, name := repoOf(r), r.PathValue("env")
	e, err := d.Model.Env(r.Context(), repo, name)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	history, err := d.Model.LastDeploys(r.Context(), repo, name, 50)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	slices.Reverse(history)
	others, err := d.Model.Envs(r.Context(), repo)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	others = slices.DeleteFunc(others, func(o readmodel.Env) bool { return o.Env == name })
	data := map[string]any{"Env": e, "History": history, "Others": others, "Path": r.URL.Path}
	if cmp := r.URL.Query().Get("compare"); cmp != "" {
		o, err := d.Model.Env(r.Context(), repo, cmp)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		data["Compare"], data["Diff"] = o, diffImages(e.Images, o.Images)
	}
	v.Title, v.Data = name+" of "+repo, data
	d.render(w, r, "env", v)
}

// diffImages pairs the images of two environments by service.
func diffImages(here, there []events.Image) []imageDiff {
	by := map[string]*imageDiff{}
	var names []string
	for _, im := range here {
		by[im.Service.Name] = &imageDiff{Service: im.Service.Name, Here: im.Digest, HereRef: im.Ref}
		names = append(names, im.Service.Name)
	}
	for _, im := range there {
		d, ok := by[im.Service.Name]
		if !ok {
			d = &imageDiff{Service: im.Service.Name}
			by[im.Service.Name] = d
			names = append(names, im.Service.Name)
		}
		d.There, d.Ref = im.Digest, im.Ref
	}
	sort.Strings(names)
	out := make([]imageDiff, 0, len(names))
	for _, n := range names {
		d := by[n]
		d.Same = d.Here == d.There
		out = append(out, *d)
	}
	return out
}

func (d *Dashboard) confirmRollback(w http.ResponseWriter, r *http.Request, v view) {
	repo, name := repoOf(r), r.PathValue("env")
	deploys, err := d.Model.Deploys(r.Context(), repo, name)
	if err != nil {
		d.fail(w, r, err)
		return
	}
	target, cur, err := release.RollbackTarget(deploys, name, 1, r.URL.Query().Get("to"))
	data := map[string]any{"Repo": repo, "Env": name, "Target": target, "Current": cur}
	if err != nil {
		data["Error"] = err.Error()
	}
	v.Title, v.Data = "Roll back "+name, data
	d.render(w, r, "confirm", v)
}

func (d *Dashboard) rollback(w http.ResponseWriter, r *http.Request, v view) {
	repo, name := repoOf(r), r.PathValue("env")
	_, _, err := actions.Rollback(r.Context(), d.Bus, repo, name, 1, r.PostFormValue("to"),
		actions.Deliberate{Actor: v.Token.Name}, io.Discard)
	if err != nil {
		if errors.Is(err, release.ErrNoRollback) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/repos/"+r.PathValue("owner")+"/"+r.PathValue("name")+"/envs/"+url.PathEscape(name), http.StatusSeeOther)
}

func (d *Dashboard) previews(w http.ResponseWriter, r *http.Request, v view) {
	p, err := d.Model.Previews(r.Context(), "")
	if err != nil {
		d.fail(w, r, err)
		return
	}
	v.Title, v.Data = "Previews", p
	d.render(w, r, "previews", v)
}

func (d *Dashboard) deadLetters(w http.ResponseWriter, r *http.Request, v view) {
	dead, err := d.Model.DeadLetters(r.Context())
	if err != nil {
		d.fail(w, r, err)
		return
	}
	v.Title, v.Data = "Dead letters", api.DeadLetterViews(dead)
	d.render(w, r, "deadletters", v)
}

func (d *Dashboard) retry(w http.ResponseWriter, r *http.Request, _ view) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		http.Error(w, "not a dead letter's sequence", http.StatusBadRequest)
		return
	}
	if _, err := actions.RetryDeadLetter(r.Context(), d.Bus, seq); err != nil {
		d.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/deadletters", http.StatusSeeOther)
}

func isNotFound(err error) bool { return errors.Is(err, readmodel.ErrNotFound) }

// age is how long ago t was, in the largest unit.
func age(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// replicas counts the containers of an environment's services.
func replicas(images []events.Image) int {
	n := 0
	for _, im := range images {
		n += max(1, im.Service.Replicas)
	}
	return n
}

func targetName(t string) string {
	if t == "" {
		return events.LocalTarget
	}
	return t
}
