package pipeline

import (
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/checks"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// checkConsumers are the consumers of the checks: the builder runs each
// requested check, the deployer asks a built commit's deploys again when
// its last check finished.
var checkConsumers = []consumer{
	{
		Consumer: natsjs.Consumer{Name: ConsumerCheck, Role: natsjs.RoleBuilder, Description: "runs one check of one commit",
			Subjects: []string{events.SubjectCheckRequested}, MaxAckPending: 256},
		part: partBuild,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerCheck, Handler: natsjs.Typed(h.checks.HandleCheck)}
		},
	},
	{
		Consumer: natsjs.Consumer{Name: ConsumerChecked, Role: natsjs.RoleDeployer, Description: "deploys a built commit once its checks finished",
			Subjects: []string{events.SubjectCheckFinished}, MaxAckPending: 64},
		part: partRelease,
		route: func(h handlers) natsjs.Route {
			return natsjs.Route{Consumer: ConsumerChecked, Handler: natsjs.Typed(h.release.Redrive.HandleFinished)}
		},
	},
}

// checkHandler is the check workflow of a builder, beside its build
// workflow h and running checks with its BuildKit client.
func checkHandler(h *build.Handler) *checks.Handler {
	r, _ := h.Builder.(checks.Runner)
	return &checks.Handler{Source: h.Source, Runner: r, Claims: h.Claims, Publisher: h.Publisher, Planner: h.Planner, ClaimTTL: h.Config.ClaimTTL}
}

// gates sets the gates of the release and preview workflows of w and
// their redrive: the checks of each commit, the freezes of each
// environment.
func (w *ReleaseWorkflows) gates(claims *natsstore.Claims, freezes gate.Gate) {
	cg := checks.Gate{Claims: claims}
	w.Release.Gate = gate.Chain{cg, freezes}
	w.Preview.Gate = cg
	w.Redrive = &checks.Redrive{Planner: w.Release.Planner, Claims: claims, Handlers: []checks.BuiltHandler{w.Release, w.Preview}}
}
