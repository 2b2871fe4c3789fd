package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"go.yaml.in/yaml/v3"

	"github.com/slipway-dev/slipway/events"
)

// Bounds of the resources a service may declare. The operator's maxima,
// checked when a commit is deployed, are usually far lower.
const (
	// MinMemory is the smallest memory limit the Docker Engine accepts.
	MinMemory = 6 << 20
	maxMemory = 1 << 40
	maxPids   = 1 << 22 // the kernel's largest pid_max
	maxCPUs   = 1024
	// maxUserLen bounds each part of user: "name:group".
	maxUserLen = 32
)

// ParseMemory parses an amount of memory as Docker and Compose write it:
// bytes, or a number with a binary unit (k, m, g, t; "512m", "1GiB", "1.5g").
func ParseMemory(s string) (int64, error) {
	b, err := units.RAMInBytes(strings.TrimSpace(s))
	if err != nil || b < MinMemory || b > maxMemory {
		return 0, fmt.Errorf("%q: want an amount between 6MiB and 1TiB, such as 512MiB or 1GiB", s)
	}
	return b, nil
}

// resources decodes a service's resource limits:
//
//	resources:
//	  memory: 1GiB   # bytes, or with a unit: 512m, 1.5g
//	  pids: 1024
//	  cpus: 1.5
func (d *decoder) resources(p string, n *yaml.Node) events.Resources {
	var r events.Resources
	f, ok := d.mapping(p, n, "memory", "pids", "cpus")
	if !ok {
		return r
	}
	if v, ok := f.get("memory"); ok {
		r.Memory = d.memory(p+".memory", v.value)
	}
	if v, ok := f.get("pids"); ok {
		if n, ok := d.integer(p+".pids", v.value); ok && (n < 1 || n > maxPids) {
			d.fail(p+".pids", v.value, "must be between 1 and %d", maxPids)
		} else if ok {
			r.Pids = n
		}
	}
	if v, ok := f.get("cpus"); ok {
		r.CPUs = d.cpus(p+".cpus", v.value)
	}
	return r
}

// memory decodes a memory limit: an integer of bytes or a string with a unit.
func (d *decoder) memory(p string, n *yaml.Node) int64 {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		d.fail(p, n, "must be an amount of memory such as 512MiB")
		return 0
	}
	b, err := ParseMemory(n.Value)
	if err != nil {
		d.fail(p, n, "%v", err)
		return 0
	}
	return b
}

// cpus decodes a number of CPUs, whole or not.
func (d *decoder) cpus(p string, n *yaml.Node) float64 {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		d.fail(p, n, "must be a number such as 1.5")
		return 0
	}
	c, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(c) || c < 0.01 || c > maxCPUs {
		d.fail(p, n, "must be between 0.01 and %d", maxCPUs)
		return 0
	}
	return c
}

// user decodes the user a service runs as: "uid", "uid:gid", "name" or
// "name:group"; an integer is a uid.
func (d *decoder) user(p string, n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!str" && n.ShortTag() != "!!int") {
		d.fail(p, n, `must be a user such as "1000:1000" or "app"`)
		return ""
	}
	if msg := CheckUser(n.Value); msg != "" {
		d.fail(p, n, "%s", msg)
		return ""
	}
	return n.Value
}

// CheckUser returns what is wrong with a container user ("1000",
// "1000:1000", "app", "app:app"), or "".
func CheckUser(s string) string {
	user, group, hasGroup := strings.Cut(s, ":")
	if !userPart(user) || (hasGroup && !userPart(group)) {
		return fmt.Sprintf(`must be "user" or "user:group", each a number or a name of letters, digits, '_', '.' and '-' (at most %d)`, maxUserLen)
	}
	return ""
}

// userPart reports whether s is a uid, gid, user or group name.
func userPart(s string) bool {
	if s == "" || len(s) > maxUserLen || s[0] == '-' || s[0] == '.' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}
