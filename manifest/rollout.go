package manifest

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// Defaults of an environment's rollout:, after Flagger's analysis (an error
// rate judged over each interval of about a minute, a p99 latency limit of
// 500 ms when one is asked for) and the shares Argo Rollouts' examples use.
var (
	DefaultSteps             = []int{10, 50, 100}
	DefaultPause             = 2 * time.Minute
	DefaultBlueGreenKeep     = 10 * time.Minute
	DefaultMaxErrorRate      = 5.0 // percent
	DefaultMinRequests       = 20
	maxRolloutHold           = 24 * time.Hour
	rolloutKeys              = []string{"strategy", "steps", "pause", "keep", "watch", "max_error_rate", "max_latency_p99", "min_requests"}
	reservedEnvNameSeparator = "--" // canary.ShadowEnv appends "--canary"
)

// rollout decodes an environment's rollout: mapping.
func (d *decoder) rollout(p string, n *yaml.Node) *events.Rollout {
	f, ok := d.mapping(p, n, rolloutKeys...)
	if !ok {
		return nil
	}
	r := &events.Rollout{MaxErrorRate: DefaultMaxErrorRate, MinRequests: DefaultMinRequests}
	if v, ok := f.get("strategy"); ok {
		if s, ok := d.str(p+".strategy", v.value); ok {
			switch s {
			case events.StrategyCanary, events.StrategyBlueGreen:
				r.Strategy = s
			default:
				d.fail(p+".strategy", v.value, "must be canary or blue-green")
			}
		}
	}
	d.rolloutSteps(p, f, r)
	if v, ok := f.get("keep"); ok {
		if r.Strategy != events.StrategyBlueGreen {
			d.fail(p+".keep", v.value, "only strategy: blue-green keeps the old release")
		}
		r.Keep = d.hold(p+".keep", v.value)
	} else if r.Strategy == events.StrategyBlueGreen {
		r.Keep = DefaultBlueGreenKeep
	}
	if v, ok := f.get("watch"); ok {
		r.Watch = d.hold(p+".watch", v.value)
	}
	if v, ok := f.get("max_error_rate"); ok {
		r.MaxErrorRate = d.percent(p+".max_error_rate", v.value, 0)
	}
	if v, ok := f.get("max_latency_p99"); ok {
		r.MaxLatencyP99 = d.hold(p+".max_latency_p99", v.value)
	}
	if v, ok := f.get("min_requests"); ok {
		m, ok := d.integer(p+".min_requests", v.value)
		switch {
		case ok && (m < 0 || m > 1_000_000):
			d.fail(p+".min_requests", v.value, "must be between 0 and 1000000")
		case ok:
			r.MinRequests = int(m)
		}
	}
	if !r.Progressive() {
		d.fail(p, n, "declares neither a strategy nor a watch")
	}
	return r
}

// rolloutSteps decodes steps: and pause:, which only a canary has.
func (d *decoder) rolloutSteps(p string, f fields, r *events.Rollout) {
	canary := r.Strategy == events.StrategyCanary
	if canary {
		r.Steps, r.Pause = DefaultSteps, DefaultPause
	}
	if v, ok := f.get("pause"); ok {
		if !canary {
			d.fail(p+".pause", v.value, "only strategy: canary pauses between steps")
		}
		r.Pause = d.hold(p+".pause", v.value)
	}
	v, ok := f.get("steps")
	if !ok {
		return
	}
	if !canary {
		d.fail(p+".steps", v.value, "only strategy: canary has steps")
	}
	n := resolve(v.value)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.fail(p+".steps", v.value, "must be a list of shares such as [10%%, 50%%, 100%%]")
		return
	}
	var steps []int
	for i, item := range n.Content {
		sp := p + ".steps[" + strconv.Itoa(i) + "]"
		w := int(d.percent(sp, item, 1))
		if len(steps) > 0 && w <= steps[len(steps)-1] {
			d.fail(sp, item, "must be more than the step before it")
		}
		steps = append(steps, w)
	}
	if steps[len(steps)-1] != 100 {
		steps = append(steps, 100)
	}
	r.Steps = steps
}

// percent decodes a share such as 10% (or 10), between least and 100.
func (d *decoder) percent(p string, n *yaml.Node, least float64) float64 {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		d.fail(p, n, "must be a percentage such as 10%%")
		return 0
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(n.Value, "%")), 64)
	if err != nil || v < least || v > 100 {
		d.fail(p, n, "must be a percentage between %g%% and 100%%", least)
		return 0
	}
	return v
}

// hold decodes a positive duration of at most a day.
func (d *decoder) hold(p string, n *yaml.Node) time.Duration {
	s, ok := d.str(p, n)
	if !ok {
		return 0
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 || v > maxRolloutHold {
		d.fail(p, n, "must be a positive duration of at most 24h, such as 2m")
		return 0
	}
	return v
}
